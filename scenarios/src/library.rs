//! The bundled scenarios, embedded in the binary. Each file's header comment
//! says where its figures come from.

/// One bundled scenario.
#[derive(Clone, Copy, Debug)]
pub struct Bundled {
    pub name: &'static str,
    pub text: &'static str,
}

const LIBRARY: &[Bundled] = &[
    Bundled {
        name: "mmc-reference",
        text: include_str!("../library/mmc-reference.toml"),
    },
    Bundled {
        name: "tandem",
        text: include_str!("../library/tandem.toml"),
    },
    Bundled {
        name: "step-policy",
        text: include_str!("../library/step-policy.toml"),
    },
    Bundled {
        name: "black-friday",
        text: include_str!("../library/black-friday.toml"),
    },
    Bundled {
        name: "ten-x-growth",
        text: include_str!("../library/ten-x-growth.toml"),
    },
    Bundled {
        name: "geo-expansion",
        text: include_str!("../library/geo-expansion.toml"),
    },
    Bundled {
        name: "product-launch",
        text: include_str!("../library/product-launch.toml"),
    },
    Bundled {
        name: "greenstack",
        text: include_str!("../library/greenstack.toml"),
    },
    Bundled {
        name: "fastapi-stage2",
        text: include_str!("../library/fastapi-stage2.toml"),
    },
    Bundled {
        name: "recete",
        text: include_str!("../library/recete.toml"),
    },
    Bundled {
        name: "mercenary",
        text: include_str!("../library/mercenary.toml"),
    },
    Bundled {
        name: "arq",
        text: include_str!("../library/arq.toml"),
    },
    Bundled {
        name: "retry-storm",
        text: include_str!("../library/retry-storm.toml"),
    },
];

pub fn all() -> &'static [Bundled] {
    LIBRARY
}

pub fn find(name: &str) -> Option<&'static Bundled> {
    LIBRARY.iter().find(|b| b.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_bundled_scenario_loads_under_its_own_name() {
        for b in all() {
            let s = crate::load_str(b.name, b.text, &[]).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(
                s.name, b.name,
                "the file's scenario.name matches its library name"
            );
            assert!(!s.description.is_empty(), "{} has a description", b.name);
        }
    }
}
