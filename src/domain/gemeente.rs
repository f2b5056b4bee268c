//! The Dutch municipalities in force, as CBS lists them (`gemeenten.tsv`, reference date in its
//! first line; how to update it each 1 January: docs/gemeenten.md). A name a person types becomes
//! a [`Gemeente`] here or not at all, so "Eindhoven", " eindhoven " and "Eind\u{200B}hoven" cannot
//! become three gemeenten.

use std::collections::HashMap;
use std::sync::LazyLock;

use super::{ParseError, PlaceName};

/// One municipality: CBS code (`GM0772`), official CBS name (`Eindhoven`, `'s-Gravenhage`,
/// `Hengelo (O.)`) and province.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Gemeente {
    pub code: &'static str,
    pub name: &'static str,
    pub province: &'static str,
}

/// Names people use daily for a gemeente whose official CBS name differs: the municipality's own
/// usage for 's-Gravenhage and 's-Hertogenbosch, the short form of Nuenen, and the names to
/// which CBS adds the province (since 2024) because a namesake once existed in another province.
/// "Bergen" is not here: it is two gemeenten, Bergen (L.) and Bergen (NH.).
const ALIASES: &[(&str, &str)] = &[
    ("Den Haag", "'s-Gravenhage"),
    ("Den Bosch", "'s-Hertogenbosch"),
    ("Nuenen", "Nuenen, Gerwen en Nederwetten"),
    ("Beek", "Beek (L.)"),
    ("Hengelo", "Hengelo (O.)"),
    ("Laren", "Laren (NH.)"),
    ("Middelburg", "Middelburg (Z.)"),
    ("Rijswijk", "Rijswijk (ZH.)"),
    ("Stein", "Stein (L.)"),
];

struct Table {
    all: Vec<Gemeente>,
    by_key: HashMap<String, usize>,
}

static TABLE: LazyLock<Table> = LazyLock::new(|| parse(include_str!("gemeenten.tsv")));

/// The gemeente `name` names: its official CBS name or an alias, after trimming, in any case,
/// with a typographic apostrophe (’s-Gravenhage, as phones type it) taken for a plain one.
/// Anything else, a zero-width character inside a name included, is no gemeente.
pub fn official(name: &str) -> Option<Gemeente> {
    let table = &*TABLE;
    table.by_key.get(&key(name)).map(|&i| table.all[i])
}

/// The official name of the gemeente `name` names, as a place name; or why it names none.
pub fn official_place(name: &PlaceName) -> Result<PlaceName, ParseError> {
    match official(name.as_str()) {
        Some(g) => Ok(g
            .name
            .parse()
            .expect("every CBS name is a valid place name")),
        None => Err(ParseError::new(
            "must be a Dutch gemeente as CBS lists it, e.g. Eindhoven or 's-Gravenhage (Den Haag)",
        )),
    }
}

/// Serde for a `gemeente` field: a place name that names a gemeente, kept as its official name.
pub fn deserialize_official<'de, D: serde::Deserializer<'de>>(d: D) -> Result<PlaceName, D::Error> {
    use serde::Deserialize;
    use serde::de::Error;
    official_place(&PlaceName::deserialize(d)?).map_err(D::Error::custom)
}

/// Every gemeente in force on the reference date, sorted by name as CBS sorts them.
pub fn all() -> &'static [Gemeente] {
    &TABLE.all
}

/// The form two spellings of one name share: trimmed, NFC (one spelling of "Súdwest"), plain
/// apostrophes, lower case.
fn key(name: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    name.trim()
        .nfc()
        .map(|c| {
            if matches!(c, '\u{2018}' | '\u{2019}') {
                '\''
            } else {
                c
            }
        })
        .flat_map(char::to_lowercase)
        .collect()
}

/// The file is part of the build and checked by the tests below, so a malformed line is a
/// programming error, not input to recover from.
fn parse(text: &'static str) -> Table {
    let mut all = Vec::new();
    let mut by_key = HashMap::new();
    for (number, line) in text.lines().enumerate() {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let fields: Vec<&'static str> = line.split('\t').collect();
        let [code, name, province] = fields[..] else {
            panic!(
                "gemeenten.tsv line {}: expected code, name, province",
                number + 1
            );
        };
        let previous = by_key.insert(key(name), all.len());
        assert!(previous.is_none(), "gemeenten.tsv: {name} twice");
        all.push(Gemeente {
            code,
            name,
            province,
        });
    }
    for (alias, target) in ALIASES {
        let i = *by_key
            .get(&key(target))
            .unwrap_or_else(|| panic!("alias {alias}: no gemeente {target}"));
        let previous = by_key.insert(key(alias), i);
        assert!(previous.is_none(), "alias {alias} is itself a gemeente");
    }
    Table { all, by_key }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn the_list_is_the_cbs_indeling_of_its_reference_date() {
        let header = include_str!("gemeenten.tsv").lines().next().unwrap();
        assert!(header.starts_with("# CBS, Gemeentelijke indeling op 1 januari 2025"));
        // 342 on 1 January 2025 (CBS); update this figure together with the file.
        assert_eq!(all().len(), 342);
        assert!(header.contains(&format!("; {} gemeenten;", all().len())));

        let codes: HashSet<_> = all().iter().map(|g| g.code).collect();
        assert_eq!(codes.len(), all().len(), "codes are unique");
        for g in all() {
            let digits = g.code.strip_prefix("GM").unwrap_or("");
            assert!(
                digits.len() == 4 && digits.bytes().all(|b| b.is_ascii_digit()),
                "{g:?}"
            );
            assert_eq!(
                official(g.name),
                Some(*g),
                "each gemeente is found by its name"
            );
        }
        let provinces: HashSet<_> = all().iter().map(|g| g.province).collect();
        assert_eq!(provinces.len(), 12);
    }

    #[test]
    fn known_gemeenten_have_their_cbs_code_name_and_province() {
        for (code, name, province) in [
            ("GM0772", "Eindhoven", "Noord-Brabant"),
            ("GM0518", "'s-Gravenhage", "Zuid-Holland"),
            ("GM0796", "'s-Hertogenbosch", "Noord-Brabant"),
            ("GM1900", "Súdwest-Fryslân", "Fryslân"),
            ("GM1970", "Noardeast-Fryslân", "Fryslân"),
            ("GM0893", "Bergen (L.)", "Limburg"),
            ("GM0373", "Bergen (NH.)", "Noord-Holland"),
            // Formed on 1 January 2023 from Brielle, Hellevoetsluis and Westvoorne.
            ("GM1992", "Voorne aan Zee", "Zuid-Holland"),
        ] {
            let expected = Gemeente {
                code,
                name,
                province,
            };
            assert_eq!(official(name), Some(expected));
        }
        assert_eq!(official("Brielle"), None);
    }

    #[test]
    fn daily_names_lead_to_the_official_name() {
        for (alias, target) in ALIASES {
            assert_eq!(official(alias).map(|g| g.name), Some(*target), "{alias}");
        }
        assert_eq!(official("den haag").map(|g| g.code), Some("GM0518"));
        assert_eq!(official("Den Bosch").map(|g| g.code), Some("GM0796"));
        assert_eq!(official("Hengelo").map(|g| g.name), Some("Hengelo (O.)"));
        assert_eq!(official("Bergen"), None, "two gemeenten are called Bergen");
    }

    #[test]
    fn case_surrounding_spaces_and_apostrophes_do_not_matter() {
        let eindhoven = official("Eindhoven");
        for typed in [
            "eindhoven",
            "EINDHOVEN",
            "  Eindhoven\t",
            "\u{00A0}Eindhoven\n",
        ] {
            assert_eq!(official(typed), eindhoven, "{typed:?}");
        }
        assert_eq!(official("’s-Gravenhage").map(|g| g.code), Some("GM0518"));
        assert_eq!(official("'S-HERTOGENBOSCH").map(|g| g.code), Some("GM0796"));
        assert_eq!(official("súdwest-fryslân").map(|g| g.code), Some("GM1900"));
        assert_eq!(
            official("Su\u{0301}dwest-Frysla\u{0302}n").map(|g| g.code),
            Some("GM1900"),
            "decomposed accents are the same name"
        );
    }

    #[test]
    fn anything_else_is_no_gemeente() {
        for typed in [
            "Eind\u{200B}hoven",
            "Eind hoven",
            "Eindhove",
            "Gotham",
            "",
            "   ",
            "GM0772",
            "Sudwest-Fryslan",
        ] {
            assert_eq!(official(typed), None, "{typed:?}");
        }
    }
}
