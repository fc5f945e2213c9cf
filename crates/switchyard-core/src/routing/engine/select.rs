//! Ranking and choosing: shipping prices, each candidate's rank (by
//! criteria or weighted score), the split strategy and the selection of
//! locations, with why the winner won.

use std::cmp::Ordering;

use super::*;

impl<'a> Engine<'a> {
    pub(super) fn price_shipping(&mut self) {
        for table in &self.policy.shipping_rates {
            if table.service_level != self.level {
                continue;
            }
            if let Some(l) = self.location_index(&table.location) {
                if self.shipping_cost[l].is_none() {
                    self.shipping_cost[l] = table.cost_for(self.distance_km[l]);
                }
            }
        }
    }

    /// A criterion's raw value at a location, lower is better.
    /// `order_has_tag` is precomputed for `warehouse_first`.
    pub(super) fn criterion_value(&self, criterion: &Criterion, l: usize, order_has_tag: bool) -> f64 {
        let location = self.location(l);
        match criterion {
            Criterion::Distance { .. } => self.distance_km[l],
            Criterion::Priority { .. } => f64::from(location.priority),
            Criterion::ShippingCost { .. } => self.shipping_cost[l].map_or(f64::INFINITY, |cost| cost as f64),
            Criterion::StockDepth { .. } => {
                let sku_count = self.sku_count();
                -self.usable[l * sku_count..(l + 1) * sku_count].iter().map(|u| *u as f64).sum::<f64>()
            }
            Criterion::LeadTime { .. } => f64::from(location.lead_time_days),
            Criterion::WarehouseFirst { .. } => {
                if order_has_tag && location.kind != LocationKind::Warehouse {
                    1.0
                } else {
                    0.0
                }
            }
        }
    }

    /// Orders the eligible locations; stores and warehouses in one list,
    /// dropship vendors (fallback only) in another.
    pub(super) fn rank(&self) -> Ranked {
        let location_count = self.input.locations.len();
        let criteria = &self.policy.ranking.criteria;
        let criterion_count = criteria.len();
        let tag_present: Vec<bool> = criteria
            .iter()
            .map(|criterion| match criterion {
                Criterion::WarehouseFirst { tag, .. } => {
                    self.input.lines.iter().any(|line| line.tags.iter().any(|t| t == tag))
                }
                _ => false,
            })
            .collect();
        let mut criteria_values = vec![0.0; location_count * criterion_count];
        for l in 0..location_count {
            for (c, criterion) in criteria.iter().enumerate() {
                criteria_values[l * criterion_count + c] = self.criterion_value(criterion, l, tag_present[c]);
            }
        }
        let (mut primary, mut dropship): (Vec<usize>, Vec<usize>) = (0..location_count)
            .filter(|&l| self.exclusions[l].is_none())
            .partition(|&l| self.location(l).kind != LocationKind::Dropship);
        let mut scores = vec![None; location_count];
        let weighted = self.policy.ranking.mode == RankingMode::Weighted;
        if weighted {
            for group in [&primary, &dropship] {
                self.weighted_scores(group, &criteria_values, &mut scores);
            }
        }
        let distance_first = self.distance_first();
        let compare = |&a: &usize, &b: &usize| -> Ordering {
            let by_distance =
                if distance_first { self.distance_km[a].total_cmp(&self.distance_km[b]) } else { Ordering::Equal };
            let by_policy = if weighted {
                let score = |l: usize| scores[l].unwrap_or(f64::INFINITY);
                score(a).total_cmp(&score(b))
            } else {
                let (row_a, row_b) = (
                    &criteria_values[a * criterion_count..(a + 1) * criterion_count],
                    &criteria_values[b * criterion_count..(b + 1) * criterion_count],
                );
                row_a.iter().zip(row_b).map(|(x, y)| x.total_cmp(y)).find(|o| o.is_ne()).unwrap_or(Ordering::Equal)
            };
            by_distance.then(by_policy).then_with(|| self.code_order[a].cmp(&self.code_order[b]))
        };
        primary.sort_by(compare);
        dropship.sort_by(compare);
        let mut rank = vec![None; location_count];
        for group in [&primary, &dropship] {
            for (position, &l) in group.iter().enumerate() {
                rank[l] = Some(position);
            }
        }
        Ranked { criteria_values, scores, primary, dropship, rank }
    }

    pub(super) fn distance_first(&self) -> bool {
        self.level == ServiceLevel::Expedited && self.policy.service_levels.expedited_distance_first
    }

    /// Each criterion scaled to 0..1 (0 = best; a missing value such as an
    /// unknown shipping cost = 1), times its weight.
    pub(super) fn weighted_scores(&self, group: &[usize], values: &[f64], scores: &mut [Option<f64>]) {
        let criteria = &self.policy.ranking.criteria;
        let criterion_count = criteria.len();
        for &l in group {
            scores[l] = Some(0.0);
        }
        // Scale over the locations holding some of the order's stock: one
        // that cannot supply anything never wins, and letting it set the
        // range would distort the others' scores.
        let sku_count = self.sku_count();
        let holders: Vec<usize> = group
            .iter()
            .copied()
            .filter(|&l| self.usable[l * sku_count..(l + 1) * sku_count].iter().any(|u| *u > 0))
            .collect();
        let scale_over: &[usize] = if holders.is_empty() { group } else { &holders };
        for (c, criterion) in criteria.iter().enumerate() {
            let finite = scale_over.iter().map(|&l| values[l * criterion_count + c]).filter(|v| v.is_finite());
            let (min, max) = finite.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)));
            let weight = criterion.weight();
            for &l in group {
                let value = values[l * criterion_count + c];
                let scaled = if !value.is_finite() {
                    1.0
                } else if max > min {
                    (value - min) / (max - min)
                } else {
                    0.0
                };
                if let Some(score) = scores[l].as_mut() {
                    *score += weight * scaled;
                }
            }
        }
    }

    pub(super) fn split_permission(&self) -> (bool, SplitPermission) {
        if self.level == ServiceLevel::Pickup {
            return (false, SplitPermission::PickupIsOneStore);
        }
        match self.policy.split.strategy {
            SplitStrategy::Always => (true, SplitPermission::Always),
            SplitStrategy::Never => (false, SplitPermission::Never),
            SplitStrategy::AboveValue => {
                let value = self.input.order_value;
                match self.policy.split.min_order_value {
                    // An unchecked policy without a threshold: the safe reading is "never".
                    None => (false, SplitPermission::Never),
                    Some(threshold) if threshold.currency() != value.currency() => {
                        (false, SplitPermission::CurrencyDiffers { value, threshold })
                    }
                    Some(threshold) if value.minor() >= threshold.minor() => {
                        (true, SplitPermission::ValueAtLeast { value, threshold })
                    }
                    Some(threshold) => (false, SplitPermission::ValueBelow { value, threshold }),
                }
            }
        }
    }

    pub(super) fn allowed_at(&self, l: usize) -> &[bool] {
        let line_count = self.line_count();
        &self.line_allowed[l * line_count..(l + 1) * line_count]
    }

    /// Units a location would fill from the current pool, without changing it.
    pub(super) fn trial_fill(&self, planner: &mut Planner, l: usize) -> i64 {
        let sku_count = self.sku_count();
        planner.scratch_column.copy_from_slice(&planner.pool[l * sku_count..(l + 1) * sku_count]);
        planner.scratch_need.copy_from_slice(&planner.need);
        fill_lines(
            &self.shape,
            self.allowed_at(l),
            &mut planner.scratch_need,
            &mut planner.scratch_column,
            &mut planner.took,
        )
    }

    pub(super) fn fills_whole_order(&self, planner: &mut Planner, l: usize) -> bool {
        let total = saturating_sum(planner.need.iter().copied());
        total > 0 && self.location(l).kind != LocationKind::Dropship && self.trial_fill(planner, l) == total
    }

    /// Takes what location `l` can fill and records it in the plan.
    pub(super) fn commit(&self, planner: &mut Planner, l: usize) -> i64 {
        let sku_count = self.sku_count();
        let filled = fill_lines(
            &self.shape,
            self.allowed_at(l),
            &mut planner.need,
            &mut planner.pool[l * sku_count..(l + 1) * sku_count],
            &mut planner.took,
        );
        if filled == 0 {
            return 0;
        }
        let location = self.location(l);
        let code = &location.code;
        planner.planned_at[l] += filled;
        planner.used_locations.push(l);
        if !planner.records_plan {
            return filled;
        }
        for (line, &taken) in planner.took.iter().enumerate() {
            if taken == 0 {
                continue;
            }
            if location.kind == LocationKind::Dropship {
                planner.dropshipped[line] += taken;
            }
            planner.plan.lines[line].allocations.push((code.clone(), taken));
            for &(s, per) in self.shape.line(line) {
                planner.plan.reservations.push(Reservation {
                    line,
                    sku: self.skus[s].clone(),
                    location: code.clone(),
                    per_unit: per,
                    quantity: taken * per,
                });
            }
        }
        filled
    }

    /// Chooses the stores and warehouses (the split strategy stage).
    pub(super) fn select(
        &self,
        ranked: &Ranked,
        fills_whole: &[bool],
        split_allowed: bool,
        limit: ShipmentLimit,
        planner: &mut Planner,
    ) -> Selection {
        let total = saturating_sum(planner.need.iter().copied());
        if self.level == ServiceLevel::Pickup {
            let pickup = ranked.primary.first().copied();
            let filled = pickup.map_or(0, |l| self.commit(planner, l));
            return Selection::Pickup {
                requested: self.input.pickup_location.clone(),
                eligible: pickup.is_some(),
                filled_units: filled,
            };
        }
        if total == 0 {
            return Selection::NothingToFill;
        }
        if !limit.allows_another(0) {
            return Selection::NoPrimaryStock;
        }
        let whole_candidates: Vec<usize> = ranked.primary.iter().copied().filter(|&l| fills_whole[l]).collect();
        if let Some(&whole) = whole_candidates.first() {
            let deciding = self.deciding_factor(ranked, &whole_candidates);
            let comparison = if split_allowed { self.compare_with_split(ranked, whole, limit, planner) } else { None };
            if let Some(comparison) = comparison.as_ref().filter(|c| !c.within_tolerance) {
                for code in &comparison.split_locations {
                    if let Some(l) = self.location_index(code) {
                        self.commit(planner, l);
                    }
                }
                return Selection::Split {
                    locations: comparison.split_locations.clone(),
                    fill_order: None,
                    preferred_over_whole: Some(comparison.clone()),
                };
            }
            self.commit(planner, whole);
            return Selection::WholeOrder {
                location: self.location(whole).code.clone(),
                deciding,
                locations_filling_whole_order: whole_candidates.len(),
                split_comparison: comparison,
            };
        }
        let fill_order = self.policy.split.fill_order;
        let mut unused: Vec<usize> = ranked.primary.clone();
        while planner.need.iter().any(|n| *n > 0) && limit.allows_another(planner.used_locations.len()) {
            let next = if split_allowed && fill_order == SplitFillOrder::Ranking {
                unused.iter().position(|&l| self.trial_fill(planner, l) > 0)
            } else {
                // The most units next; the earlier-ranked wins a tie (as FewestLocations).
                let mut best: Option<(usize, i64)> = None;
                for (position, &l) in unused.iter().enumerate() {
                    let filled = self.trial_fill(planner, l);
                    if filled > best.map_or(0, |(_, f)| f) {
                        best = Some((position, filled));
                    }
                }
                best.map(|(position, _)| position)
            };
            let Some(position) = next else { break };
            let l = unused.remove(position);
            self.commit(planner, l);
        }
        match planner.used_locations.as_slice() {
            [] => Selection::NoPrimaryStock,
            [only] => Selection::BestSingleLocation {
                location: self.location(*only).code.clone(),
                filled_units: total.saturating_sub(saturating_sum(planner.need.iter().copied())),
            },
            used => Selection::Split {
                locations: used.iter().map(|&l| self.location(l).code.clone()).collect(),
                fill_order: Some(fill_order),
                preferred_over_whole: None,
            },
        }
    }

    /// With a tolerance configured, builds the split a "nearest first" fill
    /// would make and says whether the whole-order location is within the
    /// tolerance of it. `None` when no tolerance is set or no complete,
    /// genuinely split alternative exists.
    pub(super) fn compare_with_split(
        &self,
        ranked: &Ranked,
        whole: usize,
        limit: ShipmentLimit,
        planner: &mut Planner,
    ) -> Option<SplitComparison> {
        let rules = &self.policy.split;
        if rules.prefer_single_within_km.is_none() && rules.prefer_single_within_cost_minor.is_none() {
            return None;
        }
        let mut by_distance = ranked.primary.clone();
        by_distance.sort_by(|&a, &b| self.distance_km[a].total_cmp(&self.distance_km[b]));
        // A trial planner, so the real pool is untouched.
        let mut trial = planner.trial();
        for &l in &by_distance {
            if trial.need.iter().all(|n| *n == 0) || !limit.allows_another(trial.used_locations.len()) {
                break;
            }
            self.commit(&mut trial, l);
        }
        let complete = trial.need.iter().all(|n| *n == 0);
        if !complete || trial.used_locations.len() < 2 || trial.used_locations.contains(&whole) {
            return None;
        }
        let split_nearest_km = trial.used_locations.iter().map(|&l| self.distance_km[l]).fold(f64::INFINITY, f64::min);
        let whole_distance_km = self.distance_km[whole];
        let whole_cost_minor = self.shipping_cost[whole];
        let split_cost_minor = trial
            .used_locations
            .iter()
            .try_fold(0i64, |sum, &l| self.shipping_cost[l].map(|cost| sum.saturating_add(cost)));
        let within_km = rules.prefer_single_within_km.is_some_and(|km| whole_distance_km - split_nearest_km <= km);
        let within_cost = match (rules.prefer_single_within_cost_minor, whole_cost_minor, split_cost_minor) {
            (Some(tolerance), Some(whole_cost), Some(split_cost)) => whole_cost.saturating_sub(split_cost) <= tolerance,
            _ => false,
        };
        Some(SplitComparison {
            whole_location: self.location(whole).code.clone(),
            whole_distance_km,
            split_locations: trial.used_locations.iter().map(|&l| self.location(l).code.clone()).collect(),
            split_nearest_km,
            whole_cost_minor,
            split_cost_minor,
            within_tolerance: within_km || within_cost,
        })
    }

    /// What separated the chosen whole-order location from the others that
    /// could fill the whole order: replays the ranking as successive
    /// eliminations and records each step that removed a competitor.
    pub(super) fn deciding_factor(&self, ranked: &Ranked, whole_candidates: &[usize]) -> DecidingFactor {
        let Some((&chosen, competitors)) = whole_candidates.split_first() else {
            return DecidingFactor::OnlyCandidate;
        };
        if competitors.is_empty() {
            return DecidingFactor::OnlyCandidate;
        }
        let mut remaining = competitors.to_vec();
        let mut steps = Vec::new();
        if self.distance_first() {
            remaining.retain(|&l| self.distance_km[l] == self.distance_km[chosen]);
            if remaining.len() < competitors.len() {
                steps.push(DecidingStep::DistanceFirst);
            }
        }
        if remaining.is_empty() {
            return DecidingFactor::Ranking { steps };
        }
        if self.policy.ranking.mode == RankingMode::Weighted {
            // `remaining` keeps ranked order, so its first is the runner-up.
            let (score, runner_up) = (ranked.scores[chosen].unwrap_or(0.0), ranked.scores[remaining[0]].unwrap_or(0.0));
            if score != runner_up {
                return DecidingFactor::WeightedScore { chosen: score, runner_up };
            }
            steps.push(DecidingStep::LocationCode);
            return DecidingFactor::Ranking { steps };
        }
        let count = self.policy.ranking.criteria.len();
        for (c, criterion) in self.policy.ranking.criteria.iter().enumerate() {
            let before = remaining.len();
            let value = ranked.criteria_values[chosen * count + c];
            remaining.retain(|&l| ranked.criteria_values[l * count + c] == value);
            if remaining.len() < before {
                steps.push(match criterion {
                    Criterion::WarehouseFirst { tag, .. } => DecidingStep::WarehouseFirst { tag: tag.clone() },
                    other => DecidingStep::Criterion { criterion: other.kind() },
                });
            }
            if remaining.is_empty() {
                break;
            }
        }
        if !remaining.is_empty() {
            steps.push(DecidingStep::LocationCode);
        }
        DecidingFactor::Ranking { steps }
    }
}
