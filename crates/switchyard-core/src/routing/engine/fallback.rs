//! When the chosen locations fall short: why each short line is short,
//! the fallback chain (dropship, backorder, hold, auto-cancel), the outcome
//! and the decision's trace.

use super::*;

impl<'a> Engine<'a> {
    /// Why a line is still short after the stores and warehouses were chosen.
    pub(super) fn shortage(&self, line: usize, ranked: &Ranked, planner: &Planner) -> Option<Shortage> {
        let units_short = planner.need[line];
        if units_short <= 0 {
            return None;
        }
        let units = self.shape.line(line);
        let line_sku = &self.input.lines[line].sku;
        let eligible: Vec<usize> = ranked.primary.iter().copied().filter(|&l| self.allowed_at(l)[line]).collect();
        // The limiting stock SKU: the fewest line units across eligible locations.
        let sku_count = self.sku_count();
        let limiting = units
            .iter()
            .filter(|(_, per)| *per > 0)
            .min_by_key(|&&(s, per)| saturating_sum(eligible.iter().map(|&l| planner.pool[l * sku_count + s] / per)))
            .or(units.first())
            .map(|&(s, _)| s);
        let Some(s) = limiting else {
            return Some(Shortage { units_short, sku: line_sku.clone(), cause: ShortageCause::NoStock });
        };
        let sku = self.skus[s].clone();
        if eligible.is_empty() {
            return Some(Shortage { units_short, sku, cause: self.excluded_stock_cause(s) });
        }
        if self.level != ServiceLevel::Pickup {
            let blocked_at = eligible.iter().copied().find(|&l| {
                !planner.used_locations.contains(&l)
                    && units.iter().all(|&(s, per)| per > 0 && planner.pool[l * sku_count + s] >= per)
            });
            if let Some(l) = blocked_at {
                return Some(Shortage {
                    units_short,
                    sku,
                    cause: ShortageCause::SplitLimit { location: self.location(l).code.clone() },
                });
            }
        }
        // Stock another line of this order took at the eligible locations.
        let taken = planner.plan.reservations.iter().find(|r| {
            r.line != line
                && &r.sku == self.skus[s]
                && self.location_index(&r.location).is_some_and(|l| eligible.contains(&l))
        });
        if let Some(taken) = taken {
            let units = saturating_sum(
                planner
                    .plan
                    .reservations
                    .iter()
                    .filter(|r| r.line != line && &r.sku == self.skus[s])
                    .map(|r| r.quantity),
            );
            let other = &self.input.lines[taken.line];
            let is_bundle = other.units.len() > 1 || other.units.first().is_some_and(|(unit, _)| unit != &other.sku);
            return Some(Shortage {
                units_short,
                sku,
                cause: ShortageCause::TakenByOtherLine {
                    line: taken.line,
                    line_sku: other.sku.clone(),
                    is_bundle,
                    units,
                },
            });
        }
        let (mut reserved, mut protected, mut safety, mut on_hand) = (0i64, 0i64, 0i64, 0i64);
        for &l in &eligible {
            let key = (self.skus[s].clone(), self.location(l).code.clone());
            if let Some(position) = self.input.stock.get(&key) {
                on_hand = on_hand.saturating_add(position.on_hand.max(0));
                reserved = reserved.saturating_add(position.reserved.max(0));
                safety = safety.saturating_add(position.safety_stock.max(0));
            }
            protected = protected.saturating_add(self.available[l * sku_count + s] - self.usable[l * sku_count + s]);
        }
        let cause = if on_hand > 0 && reserved > 0 {
            ShortageCause::ReservedForOtherOrders { units: reserved }
        } else if protected > 0 {
            ShortageCause::Protected { units: protected }
        } else if on_hand > 0 && safety > 0 {
            ShortageCause::SafetyStock { units: safety.min(on_hand) }
        } else {
            self.excluded_stock_cause(s)
        };
        Some(Shortage { units_short, sku, cause })
    }

    /// `OnlyAtExcludedLocations` when excluded stores or warehouses have the
    /// SKU, else `NoStock` (or `NoEligibleLocation` when nothing is eligible).
    pub(super) fn excluded_stock_cause(&self, s: usize) -> ShortageCause {
        let sku_count = self.sku_count();
        let excluded_with_stock: Vec<LocationCode> = (0..self.input.locations.len())
            .filter(|&l| {
                self.exclusions[l].is_some()
                    && !matches!(self.exclusions[l], Some(Exclusion::NotPickupLocation | Exclusion::DuplicateCode))
                    && self.location(l).kind != LocationKind::Dropship
                    && self.available[l * sku_count + s] > 0
            })
            .map(|l| self.location(l).code.clone())
            .collect();
        if !excluded_with_stock.is_empty() {
            ShortageCause::OnlyAtExcludedLocations { locations: excluded_with_stock }
        } else if self.exclusions.iter().all(Option::is_some) {
            ShortageCause::NoEligibleLocation
        } else {
            ShortageCause::NoStock
        }
    }

    /// Runs the fallback chain over the units still unplaced. Returns the
    /// trace and, for pickup, the nearest other store with stock.
    pub(super) fn run_fallbacks(
        &self,
        ranked: &Ranked,
        limit: ShipmentLimit,
        planner: &mut Planner,
        lines: &mut [LineOutcome],
    ) -> (Vec<FallbackTrace>, Option<LocationCode>) {
        let mut trace = Vec::new();
        let split_blocked = |outcome: &LineOutcome| {
            matches!(outcome.shortage, Some(Shortage { cause: ShortageCause::SplitLimit { .. }, .. }))
        };
        let same_day_or_pickup = matches!(self.level, ServiceLevel::SameDay | ServiceLevel::Pickup);
        let mut held_something = false;
        for &step in &self.policy.fallback.chain {
            let nothing_left = planner.need.iter().all(|n| *n <= 0);
            // `auto_cancel` still runs after a `hold` that took the last units.
            if nothing_left && step != FallbackStep::AutoCancel {
                break;
            }
            let result = match step {
                FallbackStep::Dropship | FallbackStep::Backorder if same_day_or_pickup => {
                    FallbackResult::Skipped { reason: SkipReason::NotForServiceLevel { level: self.level } }
                }
                FallbackStep::Dropship => {
                    let dropshipped = self.dropship(ranked, limit, planner);
                    if !dropshipped.is_empty() {
                        trace.extend(dropshipped.into_iter().map(|result| FallbackTrace {
                            step,
                            implicit: false,
                            result,
                        }));
                        continue;
                    }
                    let reason = if limit.allows_another(planner.used_locations.len()) {
                        SkipReason::NoVendorHasStock
                    } else {
                        SkipReason::ShipmentLimitReached { max_shipments: limit.0.unwrap_or(0) }
                    };
                    FallbackResult::Skipped { reason }
                }
                FallbackStep::Backorder => {
                    let expected_restock_ms = self.days_from_now(self.policy.fallback.backorder_restock_days.max(0));
                    let mut backordered = Vec::new();
                    let mut blocked = false;
                    for (line, outcome) in lines.iter_mut().enumerate() {
                        let units = planner.need[line];
                        if units <= 0 || !self.input.lines[line].may_backorder {
                            continue;
                        }
                        // Stock exists elsewhere: a human approves a split instead.
                        if split_blocked(outcome) {
                            blocked = true;
                            continue;
                        }
                        outcome.backordered_units += units;
                        outcome.expected_restock_ms = Some(expected_restock_ms);
                        planner.need[line] = 0;
                        backordered.push((line, units));
                    }
                    if backordered.is_empty() {
                        let reason =
                            if blocked { SkipReason::StockExistsElsewhere } else { SkipReason::NoLineMayBackorder };
                        FallbackResult::Skipped { reason }
                    } else {
                        FallbackResult::Backordered { lines: backordered, expected_restock_ms }
                    }
                }
                FallbackStep::Hold => {
                    held_something = true;
                    self.hold(planner, lines)
                }
                FallbackStep::AutoCancel if !held_something => {
                    FallbackResult::Skipped { reason: SkipReason::NothingHeld }
                }
                FallbackStep::AutoCancel => {
                    let hours = self.policy.fallback.auto_cancel_after_hours.unwrap_or(0).max(0);
                    FallbackResult::AutoCancel { at_ms: self.now_ms.saturating_add(hours.saturating_mul(MS_PER_HOUR)) }
                }
            };
            trace.push(FallbackTrace { step, implicit: false, result });
        }
        if planner.need.iter().any(|n| *n > 0) {
            let result = self.hold(planner, lines);
            trace.push(FallbackTrace { step: FallbackStep::Hold, implicit: true, result });
        }
        let held = lines.iter().any(|line| line.held_units > 0);
        let nearest = if held && self.level == ServiceLevel::Pickup { self.nearest_pickup_store() } else { None };
        (trace, nearest)
    }

    /// Dropship vendors in ranked order take what they can, each one a
    /// shipment, while the shipment limit allows.
    pub(super) fn dropship(&self, ranked: &Ranked, limit: ShipmentLimit, planner: &mut Planner) -> Vec<FallbackResult> {
        let mut results = Vec::new();
        for &vendor in &ranked.dropship {
            if planner.need.iter().all(|n| *n <= 0) || !limit.allows_another(planner.used_locations.len()) {
                break;
            }
            let before = planner.need.clone();
            if self.commit(planner, vendor) == 0 {
                continue;
            }
            let location = self.location(vendor);
            let lines = before
                .iter()
                .zip(&planner.need)
                .enumerate()
                .filter(|(_, (wanted, left))| wanted > left)
                .map(|(line, (wanted, left))| (line, wanted - left))
                .collect();
            results.push(FallbackResult::Dropshipped {
                location: location.code.clone(),
                name: location.name.clone(),
                lead_time_days: location.lead_time_days,
                expected_ship_ms: self.days_from_now(i64::from(location.lead_time_days)),
                lines,
            });
        }
        results
    }

    /// Holds every unit still unplaced.
    pub(super) fn hold(&self, planner: &mut Planner, lines: &mut [LineOutcome]) -> FallbackResult {
        let mut held = Vec::new();
        for (line, outcome) in lines.iter_mut().enumerate() {
            let units = planner.need[line];
            if units > 0 {
                outcome.held_units += units;
                planner.need[line] = 0;
                held.push((line, units));
            }
        }
        FallbackResult::Held { exception: self.exception_kind(lines), lines: held }
    }

    pub(super) fn exception_kind(&self, lines: &[LineOutcome]) -> ExceptionKind {
        if self.level == ServiceLevel::Pickup {
            return ExceptionKind::PickupUnavailable;
        }
        let split_blocked = lines.iter().any(|line| {
            line.held_units > 0
                && matches!(line.shortage, Some(Shortage { cause: ShortageCause::SplitLimit { .. }, .. }))
        });
        if split_blocked {
            ExceptionKind::SplitOverLimit
        } else {
            ExceptionKind::Unroutable
        }
    }

    /// The nearest other active pickup store that could hand over the whole
    /// order (or, failing that, the most of it), measured from the chosen store.
    pub(super) fn nearest_pickup_store(&self) -> Option<LocationCode> {
        let chosen = self.input.pickup_location.as_ref().and_then(|code| self.location_index(code));
        let sku_count = self.sku_count();
        let mut best: Option<(bool, i64, f64, usize)> = None;
        for (l, location) in self.input.locations.iter().enumerate() {
            if Some(l) == chosen
                || !location.active
                || !location.can_pickup
                || location.kind == LocationKind::Dropship
                || !self.canonical[l]
            {
                continue;
            }
            let mut column = self.usable[l * sku_count..(l + 1) * sku_count].to_vec();
            let mut need = self.wanted.clone();
            let mut took = vec![0; self.line_count()];
            let filled = fill_lines(&self.shape, self.allowed_at(l), &mut need, &mut column, &mut took);
            if filled == 0 {
                continue;
            }
            let whole = need.iter().all(|n| *n == 0);
            let km = match chosen {
                Some(c) => self.distance_between(c, l),
                None => self.distance_km[l],
            };
            let better = match best {
                None => true,
                Some((best_whole, best_filled, best_km, _)) => {
                    (whole, filled, -km).partial_cmp(&(best_whole, best_filled, -best_km)) == Some(Ordering::Greater)
                }
            };
            if better {
                best = Some((whole, filled, km, l));
            }
        }
        best.map(|(_, _, _, l)| self.location(l).code.clone())
    }

    pub(super) fn distance_between(&self, a: usize, b: usize) -> f64 {
        let (from, to) = (self.location(a), self.location(b));
        match (Coordinates::from_pair(from.lat, from.lon), Coordinates::from_pair(to.lat, to.lon)) {
            (Some(x), Some(y)) => haversine_km(x, y),
            _ => self.estimated_km(address_tier(area_of(from), area_of(to), self.postal_prefix_len())),
        }
    }

    pub(super) fn days_from_now(&self, days: i64) -> i64 {
        self.now_ms.saturating_add(days.saturating_mul(MS_PER_DAY))
    }

    pub(super) fn outcome(
        &self,
        lines: &[LineOutcome],
        fallbacks: &[FallbackTrace],
        nearest: Option<LocationCode>,
    ) -> Outcome {
        let held = fallbacks.iter().find_map(|f| match f.result {
            FallbackResult::Held { exception, .. } => Some(exception),
            _ => None,
        });
        if let Some(exception) = held.filter(|_| lines.iter().any(|l| l.held_units > 0)) {
            let auto_cancel_at_ms = fallbacks.iter().find_map(|f| match f.result {
                FallbackResult::AutoCancel { at_ms } => Some(at_ms),
                _ => None,
            });
            let nearest_store_with_stock = if exception == ExceptionKind::PickupUnavailable { nearest } else { None };
            return Outcome::Held { exception, nearest_store_with_stock, auto_cancel_at_ms };
        }
        let expected_restock = lines.iter().filter_map(|l| l.expected_restock_ms).max();
        if let Some(expected_restock_ms) = expected_restock {
            let anything_reserved = lines.iter().any(|l| l.reserved_units > 0 || l.dropship_units > 0);
            return if anything_reserved {
                Outcome::PartiallyAllocated { expected_restock_ms }
            } else {
                Outcome::Backordered { expected_restock_ms }
            };
        }
        let dropship_ship = fallbacks
            .iter()
            .filter_map(|f| match f.result {
                FallbackResult::Dropshipped { expected_ship_ms, .. } => Some(expected_ship_ms),
                _ => None,
            })
            .max();
        match dropship_ship {
            Some(expected_ship_ms) => Outcome::Dropship { expected_ship_ms },
            None => Outcome::Allocated,
        }
    }

    pub(super) fn trace(
        &self,
        ranked: Ranked,
        fills_whole: Vec<bool>,
        planner: &Planner,
        split: SplitTrace,
        selection: Selection,
        fallbacks: Vec<FallbackTrace>,
    ) -> Trace {
        let sku_count = self.sku_count();
        let criterion_count = self.policy.ranking.criteria.len();
        let candidates = self
            .input
            .locations
            .iter()
            .enumerate()
            .map(|(l, location)| CandidateTrace {
                location: location.code.clone(),
                name: location.name.clone(),
                kind: location.kind,
                distance_km: self.distance_km[l],
                distance_source: self.distance_source[l],
                exclusion: self.exclusions[l].clone(),
                rank: ranked.rank[l],
                criteria_values: ranked.criteria_values[l * criterion_count..(l + 1) * criterion_count].to_vec(),
                weighted_score: ranked.scores[l],
                shipping_cost_minor: self.shipping_cost[l],
                usable_units: saturating_sum(self.usable[l * sku_count..(l + 1) * sku_count].iter().copied()),
                fills_whole_order: fills_whole[l],
                planned_units: planner.planned_at[l],
            })
            .collect();
        // Only protection that mattered: units withheld from this order, or
        // protected units it actually took.
        let protection = self
            .protection
            .iter()
            .filter_map(|entry| {
                let cell = entry.location * sku_count + entry.sku;
                let available = self.available[cell];
                let released = matches!(entry.verdict, ProtectionVerdict::Released { .. });
                let taken = self.usable[cell] - planner.pool[cell];
                let unprotected = (available - entry.keep_units).max(0);
                let protected_units_used = if released { (taken - unprotected).max(0) } else { 0 };
                let mattered = if released { protected_units_used > 0 } else { available > 0 && entry.keep_units > 0 };
                mattered.then(|| ProtectionTrace {
                    location: self.location(entry.location).code.clone(),
                    sku: self.skus[entry.sku].clone(),
                    rule: entry.rule,
                    keep_units: entry.keep_units,
                    available,
                    verdict: entry.verdict.clone(),
                    protected_units_used,
                })
            })
            .collect();
        let considered: Vec<DistanceSource> = (0..self.input.locations.len())
            .filter(|&l| ranked.rank[l].is_some())
            .map(|l| self.distance_source[l])
            .collect();
        let distance_source = if considered.is_empty() {
            DistanceSummary::NoCandidates
        } else if considered.iter().all(|s| *s == DistanceSource::GreatCircle) {
            DistanceSummary::GreatCircle
        } else if considered.iter().all(|s| matches!(s, DistanceSource::Estimated(_))) {
            DistanceSummary::Estimated
        } else {
            DistanceSummary::Mixed
        };
        Trace {
            service_level: self.level,
            channel: self.input.channel.clone(),
            order_value: self.input.order_value,
            total_units: saturating_sum(self.wanted.iter().copied()),
            line_skus: self.input.lines.iter().map(|line| line.sku.clone()).collect(),
            distance_source,
            ranking_mode: self.policy.ranking.mode,
            distance_first: self.distance_first(),
            criteria: self.policy.ranking.criteria.iter().map(Criterion::kind).collect(),
            candidates,
            line_exclusions: self.line_exclusions.clone(),
            avoided: self
                .input
                .avoid
                .iter()
                .filter(|(sku, code)| self.skus.contains(&sku) && self.location_index(code).is_some())
                .map(|(sku, code)| (code.clone(), sku.clone()))
                .collect(),
            protection,
            split,
            selection,
            fallbacks,
        }
    }
}
