//! Code 128 (ISO/IEC 15417), code set B: printable ASCII, which is all an
//! RMA number (`RMA-261130-0007`) is made of. [`encode`] gives the symbol
//! values (start B, the data, the mod-103 check, stop) and [`Bars`] the
//! bars as runs of modules, which a PDF draws as filled rectangles. Code
//! set B alone is a few symbols longer than switching to C for runs of
//! digits, and every scanner reads it; a thermal printer's own encoder
//! (ZPL `^BC`) is used there instead.

/// Each symbol's bar and space widths in modules (bar first), values
/// 0–105, then the stop (106, seven elements). The standard's table.
const PATTERNS: [&str; 107] = [
    "212222", "222122", "222221", "121223", "121322", "131222", "122213", "122312", "132212", "221213", "221312",
    "231212", "112232", "122132", "122231", "113222", "123122", "123221", "223211", "221132", "221231", "213212",
    "223112", "312131", "311222", "321122", "321221", "312212", "322112", "322211", "212123", "212321", "232121",
    "111323", "131123", "131321", "112313", "132113", "132311", "211313", "231113", "231311", "112133", "112331",
    "132131", "113123", "113321", "133121", "313121", "211331", "231131", "213113", "213311", "213131", "311123",
    "311321", "331121", "312113", "312311", "332111", "314111", "221411", "431111", "111224", "111422", "121124",
    "121421", "141122", "141221", "112214", "112412", "122114", "122411", "142112", "142211", "241211", "221114",
    "413111", "241112", "134111", "111242", "121142", "121241", "114212", "124112", "124211", "411212", "421112",
    "421211", "212141", "214121", "412121", "111143", "111341", "131141", "114113", "114311", "411113", "411311",
    "113141", "114131", "311141", "411131", "211412", "211214", "211232", "2331112",
];

/// The start symbol of code set B.
pub const START_B: u8 = 104;
/// The stop symbol.
pub const STOP: u8 = 106;
/// Blank modules a reader needs on each side of the bars.
pub const QUIET_ZONE_MODULES: u32 = 10;

/// Text code set B cannot carry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Code128Error {
    #[error("nothing to encode")]
    Empty,
    #[error("{0:?} is not printable ASCII (code set B)")]
    NotPrintable(char),
}

/// The symbol values of `text` in code set B: start, data, check, stop.
pub fn encode(text: &str) -> Result<Vec<u8>, Code128Error> {
    if text.is_empty() {
        return Err(Code128Error::Empty);
    }
    let mut values = vec![START_B];
    for c in text.chars() {
        match u8::try_from(u32::from(c)) {
            Ok(b @ 32..=126) => values.push(b - 32),
            _ => return Err(Code128Error::NotPrintable(c)),
        }
    }
    // The check: start value plus each data value times its position, mod 103.
    let weighted = values.iter().skip(1).zip(1u64..).map(|(v, i)| u64::from(*v) * i).sum::<u64>();
    let check = (u64::from(START_B) + weighted) % 103;
    values.push(u8::try_from(check).unwrap_or(0));
    values.push(STOP);
    Ok(values)
}

/// The bars of a symbol sequence: each bar's first module and width, and
/// the width of the whole in modules (quiet zones not included).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bars {
    pub bars: Vec<(u32, u32)>,
    pub modules: u32,
}

impl Bars {
    /// The bars of `text` in code set B.
    pub fn of(text: &str) -> Result<Bars, Code128Error> {
        Ok(Bars::from_values(&encode(text)?))
    }

    pub fn from_values(values: &[u8]) -> Bars {
        let mut bars = Vec::new();
        let mut at = 0u32;
        for v in values {
            let pattern = PATTERNS.get(usize::from(*v)).copied().unwrap_or(PATTERNS[usize::from(STOP)]);
            for (i, width) in pattern.bytes().map(|b| u32::from(b - b'0')).enumerate() {
                if i % 2 == 0 {
                    bars.push((at, width));
                }
                at += width;
            }
        }
        Bars { bars, modules: at }
    }

    /// The modules as text, `1` a bar and `0` a space (for tests).
    pub fn pattern(&self) -> String {
        let mut out = vec![b'0'; self.modules as usize];
        for (start, width) in &self.bars {
            for m in *start..start + width {
                out[m as usize] = b'1';
            }
        }
        String::from_utf8(out).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_the_standards() {
        // Every symbol is 11 modules wide (the stop 13), bars first, with
        // an even number of bar modules (the standard's parity rule).
        for (value, pattern) in PATTERNS.iter().enumerate() {
            let widths: Vec<u32> = pattern.bytes().map(|b| u32::from(b - b'0')).collect();
            let total: u32 = widths.iter().sum();
            assert_eq!(total, if value == 106 { 13 } else { 11 }, "symbol {value}");
            let bar_modules: u32 = widths.iter().step_by(2).sum();
            assert_eq!(bar_modules % 2, 0, "symbol {value}");
        }
        let unique: std::collections::BTreeSet<&str> = PATTERNS.iter().copied().collect();
        assert_eq!(unique.len(), 107, "every symbol distinct");
    }

    #[test]
    fn a_known_string_encodes_to_its_symbols() {
        // "RMA-261130-0007": R=50 M=45 A=33 -=13 2=18 6=22 1=17 1=17 3=19 0=16 -=13 0=16 0=16 0=16 7=23.
        let values = encode("RMA-261130-0007").expect("ascii");
        let data = [50, 45, 33, 13, 18, 22, 17, 17, 19, 16, 13, 16, 16, 16, 23];
        // 104 + Σ value × position = 104 + 2211 = 2315 = 22 × 103 + 49.
        let weighted: u32 = data.iter().zip(1..).map(|(v, i)| v * i).sum();
        assert_eq!(104 + weighted, 2315);
        let mut want = vec![START_B];
        want.extend(data.iter().map(|v| u8::try_from(*v).expect("small")));
        want.extend([49, STOP]);
        assert_eq!(values, want);
        // Start B, "R", ... and the stop with its final bar, module by module.
        let bars = Bars::of("RMA-261130-0007").expect("ascii");
        assert_eq!(bars.modules, 11 * 17 + 13);
        let pattern = bars.pattern();
        assert!(pattern.starts_with("11010010000"), "start B: {pattern}");
        assert_eq!(&pattern[11..22], "11000101110", "R (50: 231131)");
        assert!(pattern.ends_with("1100011101011"), "stop: {pattern}");
        assert_eq!(encode(""), Err(Code128Error::Empty));
        assert_eq!(encode("RMA-é"), Err(Code128Error::NotPrintable('é')));
    }
}
