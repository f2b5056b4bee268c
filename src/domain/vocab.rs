//! Closed vocabularies of the interchange format (DESIGN.md section 4).
//!
//! Each is a Rust enum whose wire form is the Dutch term. Unknown values are rejected with a message
//! that lists what is allowed; nothing is ever silently accepted.

/// A closed vocabulary: its values, their wire form and the Dutch name people read.
pub trait Vocabulary: Copy + Sized + 'static {
    const ALL: &'static [Self];
    fn as_str(self) -> &'static str;
    fn label(self) -> &'static str;
}

#[doc(hidden)]
macro_rules! label_or_wire {
    ($wire:literal) => {
        $wire
    };
    ($wire:literal, $label:literal) => {
        $label
    };
}

/// Defines a closed vocabulary: an enum with its wire strings, parsing with a helpful error,
/// serde and an OpenAPI string-enum schema.
macro_rules! vocabulary {
    ($(#[$meta:meta])* $name:ident, $what:literal { $($variant:ident => $wire:literal $(: $label:literal)?),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub const WIRE: &'static [&'static str] = &[$($wire),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $wire),+ }
            }

            /// The Dutch name people read (the wire value where it reads well as it is).
            pub fn label(self) -> &'static str {
                match self { $($name::$variant => $crate::domain::label_or_wire!($wire $(, $label)?)),+ }
            }
        }

        impl $crate::domain::Vocabulary for $name {
            const ALL: &'static [Self] = $name::ALL;
            fn as_str(self) -> &'static str {
                $name::as_str(self)
            }
            fn label(self) -> &'static str {
                $name::label(self)
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::domain::ParseError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($wire => Ok($name::$variant),)+
                    _ => Err($crate::domain::ParseError::new(format!(
                        "unknown {} `{}`; allowed: {}", $what, s, Self::WIRE.join(", ")
                    ))),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str> as serde::Deserialize>::deserialize(d)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }

        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .enum_values(Some(Self::WIRE.iter().copied()))
                    .into()
            }
        }
        impl utoipa::ToSchema for $name {}
    };
}
pub(crate) use {label_or_wire, vocabulary};

vocabulary! {
    /// Whose view a safety score gives.
    Perspective, "perspective" {
        Slachtoffer => "slachtoffer": "Slachtoffer",
        Pleger => "pleger": "Pleger",
        Casemanager => "casemanager": "Casemanager",
        Professional => "professional": "Andere professional (wijkteam, reclassering, GGZ …)",
        Netwerk => "netwerk": "Netwerk",
    }
}

impl Perspective {
    /// `casemanager` and `professional` (DESIGN.md section 3).
    pub fn is_professional(self) -> bool {
        matches!(self, Perspective::Casemanager | Perspective::Professional)
    }
}

vocabulary! {
    /// What kind of signal: a melding at Veilig Thuis, a police registration, and so on.
    SignalKind, "signal kind" {
        Melding => "melding": "Melding bij Veilig Thuis",
        PolitieIncident => "politie_incident": "Incident bij de politie",
        Aangifte => "aangifte": "Aangifte",
        Huisverbod => "huisverbod": "Tijdelijk huisverbod",
        Seh => "seh": "Bezoek spoedeisende hulp",
        Zorgsignaal => "zorgsignaal": "Zorgsignaal",
        Crisis => "crisis": "Crisis",
    }
}

vocabulary! {
    /// Who the signal came from.
    SignalSource, "signal source" {
        Politie => "politie": "Politie",
        SehMedisch => "seh_medisch": "SEH / medisch",
        Huisarts => "huisarts": "Huisarts",
        Onderwijs => "onderwijs": "Onderwijs",
        Hulpverlening => "hulpverlening": "Hulpverlening",
        Woningcorporatie => "woningcorporatie": "Woningcorporatie",
        NietBeroepsmatig => "niet_beroepsmatig": "Niet-beroepsmatig (buren, familie)",
        VeiligThuis => "veilig_thuis": "Veilig Thuis",
        Zelfmelding => "zelfmelding": "Zelfmelding",
        Wijkagent => "wijkagent": "Wijkagent",
    }
}

impl SignalSource {
    /// The *ogen en oren in de wijk* (DESIGN.md section 3).
    pub fn is_neighbourhood(self) -> bool {
        matches!(
            self,
            SignalSource::Wijkagent
                | SignalSource::Huisarts
                | SignalSource::Woningcorporatie
                | SignalSource::NietBeroepsmatig
        )
    }
}

vocabulary! {
    /// A marker a professional sets on a household.
    FlagKind, "flag" {
        IntiemTerrorisme => "intiem_terrorisme",
    }
}

vocabulary! {
    /// How sure the professionals are of a flag; `geen` withdraws it.
    FlagLevel, "flag level" {
        Geen => "geen",
        Vermoeden => "vermoeden",
        Waarschijnlijk => "waarschijnlijk",
        Zeker => "zeker",
    }
}

vocabulary! {
    /// Specialist expertise consulted when a plan stalls (MDA++ escalation ladder).
    Specialism, "specialism" {
        Reclassering => "reclassering": "Reclassering",
        Ggz => "ggz": "GGZ",
        Verslavingszorg => "verslavingszorg": "Verslavingszorg",
        Vrouwenopvang => "vrouwenopvang": "Vrouwenopvang",
        ForensischeGgz => "forensische_ggz": "Forensische GGZ",
        Politie => "politie": "Politie",
        VeiligThuis => "veilig_thuis": "Veilig Thuis",
    }
}

vocabulary! {
    /// A partner organisation in the household's plan.
    Partner, "partner" {
        Wijkteam => "wijkteam": "Wijkteam",
        Reclassering => "reclassering": "Reclassering",
        Ggz => "ggz": "GGZ",
        Verslavingszorg => "verslavingszorg": "Verslavingszorg",
        Vrouwenopvang => "vrouwenopvang": "Vrouwenopvang",
        ForensischeGgz => "forensische_ggz": "Forensische GGZ",
        Politie => "politie": "Politie",
        VeiligThuis => "veilig_thuis": "Veilig Thuis",
        ZorgEnVeiligheidshuis => "zorg_en_veiligheidshuis": "Zorg- en Veiligheidshuis",
        Jeugdbescherming => "jeugdbescherming": "Jeugdbescherming",
    }
}

vocabulary! {
    /// The 25 Veilig Thuis regions (one per veiligheidsregio).
    Region, "region" {
        Groningen => "groningen",
        Fryslan => "fryslan",
        Drenthe => "drenthe",
        Ijsselland => "ijsselland",
        Twente => "twente",
        NoordEnOostGelderland => "noord-en-oost-gelderland",
        GelderlandMidden => "gelderland-midden",
        GelderlandZuid => "gelderland-zuid",
        Utrecht => "utrecht",
        NoordHollandNoord => "noord-holland-noord",
        ZaanstreekWaterland => "zaanstreek-waterland",
        Kennemerland => "kennemerland",
        AmsterdamAmstelland => "amsterdam-amstelland",
        GooiEnVechtstreek => "gooi-en-vechtstreek",
        Haaglanden => "haaglanden",
        HollandsMidden => "hollands-midden",
        RotterdamRijnmond => "rotterdam-rijnmond",
        ZuidHollandZuid => "zuid-holland-zuid",
        Zeeland => "zeeland",
        MiddenEnWestBrabant => "midden-en-west-brabant",
        BrabantNoord => "brabant-noord",
        BrabantZuidoost => "brabant-zuidoost",
        LimburgNoord => "limburg-noord",
        ZuidLimburg => "zuid-limburg",
        Flevoland => "flevoland",
    }
}

vocabulary! {
    /// Whether a household's trajectory is running.
    TrajectoryStatus, "status" {
        Open => "open",
        Closed => "closed",
    }
}

vocabulary! {
    /// What a user does in zicht (DESIGN.md section 2). Access follows from it in `auth::policy`.
    Role, "role" {
        Casemanager => "casemanager",
        Regisseur => "regisseur",
        Specialist => "specialist",
        GemeenteMonitor => "gemeente_monitor",
        SignalReporter => "signal_reporter",
        // Veilig Thuis or the crisis service: reads a household it is not assigned to only
        // through break-the-glass, for a stated reason and for a few hours.
        VeiligThuis => "veilig_thuis",
        Admin => "admin",
    }
}

vocabulary! {
    /// How a user is tied to a household.
    Relation, "relation" {
        Regisseur => "regisseur",
        Casemanager => "casemanager",
        // Not an assignment: a time-limited read through break-the-glass (never stored in
        // `assignments`, whose column allows only the two above).
        Glass => "break_glass",
    }
}

vocabulary! {
    /// What the regisseur decided on an alert (MDA++ escalation ladder).
    Decision, "decision" {
        Bijschalen => "bijschalen": "Bijschalen: expertise toevoegen, regie blijft",
        SpecialistConsult => "specialist_consult": "Specialist consulteren",
        ProcesregieZvh => "procesregie_zvh": "Procesregie bij het Zorg- en Veiligheidshuis",
        Actieoverleg => "actieoverleg": "Actieoverleg",
        ProactiefScenario => "proactief_scenario": "Proactief scenario",
        GeenActie => "geen_actie": "Geen actie",
    }
}

vocabulary! {
    /// How urgently someone must act.
    Severity, "severity" {
        Info => "info",
        Warning => "warning",
        Critical => "critical",
    }
}

vocabulary! {
    /// Who a rule asks to act; resolved to people per household by the notifier.
    NotifyRole, "notify role" {
        Regisseur => "regisseur",
        Casemanager => "casemanager",
        SpecialistPool => "specialist_pool",
        VeiligThuis => "veilig_thuis",
        GemeenteMonitor => "gemeente_monitor",
    }
}
