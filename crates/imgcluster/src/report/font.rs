//! An embedded 5×7 bitmap font (with a two-row descender) for figure labels.
//!
//! The glyphs were drawn for this project and are part of its source; they cover
//! printable ASCII (`' '..='~'`) and the arrow `→`. Any other character is drawn as
//! a hollow box, so text never fails to render.
//!
//! Metrics, in font pixels (multiply by the integer text scale):
//! every glyph is [`GLYPH_WIDTH`] wide and advances by [`ADVANCE`]; capitals and
//! digits are [`ASCENT`] rows tall and sit on the baseline; `g j p q y , ; _` reach
//! [`DESCENT`] rows below it, so a line of text occupies [`LINE_HEIGHT`] rows.

/// Width of every glyph in font pixels.
pub const GLYPH_WIDTH: usize = 5;
/// Horizontal distance between the starts of two consecutive glyphs (one column of space).
pub const ADVANCE: usize = GLYPH_WIDTH + 1;
/// Rows above and including the baseline row (cap height).
pub const ASCENT: usize = 7;
/// Rows below the baseline (descenders).
pub const DESCENT: usize = 2;
/// Rows a line of text occupies: [`ASCENT`] + [`DESCENT`].
pub const LINE_HEIGHT: usize = ASCENT + DESCENT;

/// One glyph: [`LINE_HEIGHT`] rows, bit 4 of each row is the leftmost column.
pub type Glyph = [u8; LINE_HEIGHT];

/// Parses a glyph drawn as rows of five `#`/`.` separated by single spaces:
/// seven rows (no descender) or nine rows. Malformed art fails the build.
const fn art(s: &str) -> Glyph {
    let b = s.as_bytes();
    let mut rows = [0u8; LINE_HEIGHT];
    let mut row = 0;
    let mut col = 0;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b' ' => {
                assert!(col == GLYPH_WIDTH, "glyph row is not five columns wide");
                row += 1;
                col = 0;
            }
            c => {
                assert!(c == b'#' || c == b'.', "glyph art uses only '#' and '.'");
                assert!(
                    row < LINE_HEIGHT && col < GLYPH_WIDTH,
                    "glyph art too large"
                );
                if c == b'#' {
                    rows[row] |= 1 << (GLYPH_WIDTH - 1 - col);
                }
                col += 1;
            }
        }
        i += 1;
    }
    assert!(col == GLYPH_WIDTH, "glyph row is not five columns wide");
    assert!(
        row + 1 == ASCENT || row + 1 == LINE_HEIGHT,
        "glyph needs 7 or 9 rows"
    );
    rows
}

/// The glyphs of `' '..='~'` in code-point order, then `→`.
const GLYPHS: [(char, Glyph); 96] = [
    (' ', art("..... ..... ..... ..... ..... ..... .....")),
    ('!', art("..#.. ..#.. ..#.. ..#.. ..#.. ..... ..#..")),
    ('"', art(".#.#. .#.#. ..... ..... ..... ..... .....")),
    ('#', art(".#.#. .#.#. ##### .#.#. ##### .#.#. .#.#.")),
    ('$', art("..#.. .#### #.#.. .###. ..#.# ####. ..#..")),
    ('%', art("##... ##..# ...#. ..#.. .#... #..## ...##")),
    ('&', art(".##.. #..#. #.#.. .#... #.#.# #..#. .##.#")),
    ('\'', art("..#.. ..#.. ..... ..... ..... ..... .....")),
    ('(', art("...#. ..#.. .#... .#... .#... ..#.. ...#.")),
    (')', art(".#... ..#.. ...#. ...#. ...#. ..#.. .#...")),
    ('*', art("..... ..#.. #.#.# .###. #.#.# ..#.. .....")),
    ('+', art("..... ..#.. ..#.. ##### ..#.. ..#.. .....")),
    (
        ',',
        art("..... ..... ..... ..... ..... .##.. .##.. ..#.. .#..."),
    ),
    ('-', art("..... ..... ..... ##### ..... ..... .....")),
    ('.', art("..... ..... ..... ..... ..... .##.. .##..")),
    ('/', art("..... ....# ...#. ..#.. .#... #.... .....")),
    ('0', art(".###. #...# #..## #.#.# ##..# #...# .###.")),
    ('1', art("..#.. .##.. ..#.. ..#.. ..#.. ..#.. .###.")),
    ('2', art(".###. #...# ....# ...#. ..#.. .#... #####")),
    ('3', art("##### ...#. ..#.. ...#. ....# #...# .###.")),
    ('4', art("...#. ..##. .#.#. #..#. ##### ...#. ...#.")),
    ('5', art("##### #.... ####. ....# ....# #...# .###.")),
    ('6', art("..##. .#... #.... ####. #...# #...# .###.")),
    ('7', art("##### ....# ...#. ..#.. .#... .#... .#...")),
    ('8', art(".###. #...# #...# .###. #...# #...# .###.")),
    ('9', art(".###. #...# #...# .#### ....# ...#. .##..")),
    (':', art("..... .##.. .##.. ..... .##.. .##.. .....")),
    (
        ';',
        art("..... ..... .##.. .##.. ..... .##.. .##.. ..#.. .#..."),
    ),
    ('<', art("...#. ..#.. .#... #.... .#... ..#.. ...#.")),
    ('=', art("..... ..... ##### ..... ##### ..... .....")),
    ('>', art(".#... ..#.. ...#. ....# ...#. ..#.. .#...")),
    ('?', art(".###. #...# ....# ...#. ..#.. ..... ..#..")),
    ('@', art(".###. #...# ....# .##.# #.#.# #.#.# .###.")),
    ('A', art(".###. #...# #...# ##### #...# #...# #...#")),
    ('B', art("####. #...# #...# ####. #...# #...# ####.")),
    ('C', art(".###. #...# #.... #.... #.... #...# .###.")),
    ('D', art("###.. #..#. #...# #...# #...# #..#. ###..")),
    ('E', art("##### #.... #.... ####. #.... #.... #####")),
    ('F', art("##### #.... #.... ####. #.... #.... #....")),
    ('G', art(".###. #...# #.... #.### #...# #...# .####")),
    ('H', art("#...# #...# #...# ##### #...# #...# #...#")),
    ('I', art(".###. ..#.. ..#.. ..#.. ..#.. ..#.. .###.")),
    ('J', art("..### ...#. ...#. ...#. ...#. #..#. .##..")),
    ('K', art("#...# #..#. #.#.. ##... #.#.. #..#. #...#")),
    ('L', art("#.... #.... #.... #.... #.... #.... #####")),
    ('M', art("#...# ##.## #.#.# #.#.# #...# #...# #...#")),
    ('N', art("#...# #...# ##..# #.#.# #..## #...# #...#")),
    ('O', art(".###. #...# #...# #...# #...# #...# .###.")),
    ('P', art("####. #...# #...# ####. #.... #.... #....")),
    ('Q', art(".###. #...# #...# #...# #.#.# #..#. .##.#")),
    ('R', art("####. #...# #...# ####. #.#.. #..#. #...#")),
    ('S', art(".#### #.... #.... .###. ....# ....# ####.")),
    ('T', art("##### ..#.. ..#.. ..#.. ..#.. ..#.. ..#..")),
    ('U', art("#...# #...# #...# #...# #...# #...# .###.")),
    ('V', art("#...# #...# #...# #...# #...# .#.#. ..#..")),
    ('W', art("#...# #...# #...# #.#.# #.#.# #.#.# .#.#.")),
    ('X', art("#...# #...# .#.#. ..#.. .#.#. #...# #...#")),
    ('Y', art("#...# #...# .#.#. ..#.. ..#.. ..#.. ..#..")),
    ('Z', art("##### ....# ...#. ..#.. .#... #.... #####")),
    ('[', art(".###. .#... .#... .#... .#... .#... .###.")),
    ('\\', art("..... #.... .#... ..#.. ...#. ....# .....")),
    (']', art(".###. ...#. ...#. ...#. ...#. ...#. .###.")),
    ('^', art("..#.. .#.#. #...# ..... ..... ..... .....")),
    (
        '_',
        art("..... ..... ..... ..... ..... ..... ..... ##### ....."),
    ),
    ('`', art(".#... ..#.. ..... ..... ..... ..... .....")),
    ('a', art("..... ..... .###. ....# .#### #...# .####")),
    ('b', art("#.... #.... #.##. ##..# #...# #...# ####.")),
    ('c', art("..... ..... .###. #.... #.... #...# .###.")),
    ('d', art("....# ....# .##.# #..## #...# #...# .####")),
    ('e', art("..... ..... .###. #...# ##### #.... .###.")),
    ('f', art("..##. .#..# .#... ###.. .#... .#... .#...")),
    (
        'g',
        art("..... ..... .#### #...# #...# #...# .#### ....# .###."),
    ),
    ('h', art("#.... #.... #.##. ##..# #...# #...# #...#")),
    ('i', art("..#.. ..... .##.. ..#.. ..#.. ..#.. .###.")),
    (
        'j',
        art("...#. ..... ..##. ...#. ...#. ...#. ...#. #..#. .##.."),
    ),
    ('k', art("#.... #.... #..#. #.#.. ##... #.#.. #..#.")),
    ('l', art(".##.. ..#.. ..#.. ..#.. ..#.. ..#.. .###.")),
    ('m', art("..... ..... ##.#. #.#.# #.#.# #...# #...#")),
    ('n', art("..... ..... #.##. ##..# #...# #...# #...#")),
    ('o', art("..... ..... .###. #...# #...# #...# .###.")),
    (
        'p',
        art("..... ..... ####. #...# #...# #...# ####. #.... #...."),
    ),
    (
        'q',
        art("..... ..... .#### #...# #...# #...# .#### ....# ....#"),
    ),
    ('r', art("..... ..... #.##. ##..# #.... #.... #....")),
    ('s', art("..... ..... .###. #.... .###. ....# ####.")),
    ('t', art(".#... .#... ###.. .#... .#... .#..# ..##.")),
    ('u', art("..... ..... #...# #...# #...# #..## .##.#")),
    ('v', art("..... ..... #...# #...# #...# .#.#. ..#..")),
    ('w', art("..... ..... #...# #...# #.#.# #.#.# .#.#.")),
    ('x', art("..... ..... #...# .#.#. ..#.. .#.#. #...#")),
    (
        'y',
        art("..... ..... #...# #...# #...# #...# .#### ....# .###."),
    ),
    ('z', art("..... ..... ##### ...#. ..#.. .#... #####")),
    ('{', art("...#. ..#.. ..#.. .#... ..#.. ..#.. ...#.")),
    ('|', art("..#.. ..#.. ..#.. ..#.. ..#.. ..#.. ..#..")),
    ('}', art(".#... ..#.. ..#.. ...#. ..#.. ..#.. .#...")),
    ('~', art("..... ..... .#... #.#.# ...#. ..... .....")),
    ('→', art("..... ..#.. ...#. ##### ...#. ..#.. .....")),
];

/// Drawn for any character the font does not cover.
const MISSING: Glyph = art("##### #...# #...# #...# #...# #...# #####");

/// The glyph of `c`, or a hollow box when the font does not cover `c`.
///
/// # Examples
/// ```
/// use imgcluster::report::font::{glyph, ASCENT};
/// let one = glyph('1');
/// assert_eq!(one[0], 0b00100); // the top of the stem
/// assert_eq!(one[ASCENT - 1], 0b01110); // the foot
/// assert_ne!(glyph('?'), glyph('\u{263A}'));
/// ```
pub fn glyph(c: char) -> Glyph {
    let code = c as u32;
    if (0x20..=0x7e).contains(&code) {
        GLYPHS[(code - 0x20) as usize].1
    } else if c == '→' {
        GLYPHS[95].1
    } else {
        MISSING
    }
}

/// Width in font pixels of `text` drawn on one line (no trailing space), before scaling.
///
/// # Examples
/// ```
/// use imgcluster::report::font::text_width;
/// assert_eq!(text_width(""), 0);
/// assert_eq!(text_width("7"), 5);
/// assert_eq!(text_width("10"), 11);
/// ```
pub fn text_width(text: &str) -> usize {
    let n = text.chars().count();
    if n == 0 {
        0
    } else {
        n * ADVANCE - 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_in_code_point_order() {
        for (i, (c, _)) in GLYPHS.iter().take(95).enumerate() {
            assert_eq!(*c as u32, 0x20 + i as u32, "glyph {i}");
        }
        assert_eq!(GLYPHS[95].0, '→');
    }

    #[test]
    fn every_visible_glyph_has_ink_and_space_has_none() {
        assert_eq!(glyph(' '), [0; LINE_HEIGHT]);
        for (c, g) in GLYPHS.iter().skip(1) {
            assert!(g.iter().any(|&r| r != 0), "{c:?} is blank");
        }
    }

    #[test]
    fn glyphs_are_distinct() {
        for (i, (a, ga)) in GLYPHS.iter().enumerate() {
            for (b, gb) in GLYPHS.iter().skip(i + 1) {
                assert_ne!(ga, gb, "{a:?} and {b:?} look the same");
            }
            assert_ne!(*ga, MISSING, "{a:?} looks like the missing-glyph box");
        }
    }

    #[test]
    fn only_descender_glyphs_use_the_descent_rows() {
        for (c, g) in GLYPHS {
            let descends = g[ASCENT..].iter().any(|&r| r != 0);
            assert_eq!(descends, ",;_gjpqy".contains(c), "{c:?}");
        }
    }

    #[test]
    fn uncovered_characters_get_the_box() {
        assert_eq!(glyph('é'), MISSING);
        assert_eq!(glyph('\n'), MISSING);
        assert_eq!(glyph('\u{7f}'), MISSING);
    }
}
