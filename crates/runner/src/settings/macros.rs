//! The machinery behind [`super::Settings`]: clap's parser for [`Choice`] values, each
//! setting's value as a command-line argument, and the macro that writes the three stages of a
//! run's settings from one list.

use clap::builder::{PossibleValuesParser, TypedValueParser};
use std::path::PathBuf;
use twinnet_core::{
    Activation, BackendKind, Betas, Choice, DecayScope, Device, Head, Hidden, Init, InitRng,
    Normalize, OptimizerKind, Regime,
};
use twinnet_data::DatasetName;

/// A clap parser that accepts exactly the names of a [`Choice`] and lists them in `--help`.
pub fn choice<T: Choice + Clone>() -> impl TypedValueParser<Value = T> {
    PossibleValuesParser::new(T::ALL.iter().map(|v| v.as_str()))
        .map(|s| T::parse_choice(&s).expect("clap only passes possible values"))
}

/// A setting's value as a command-line argument (its `Display`, paths as given).
pub(super) trait ArgValue {
    fn arg(&self) -> String;
}

macro_rules! arg_by_display {
    ($($t:ty),+) => { $(impl ArgValue for $t { fn arg(&self) -> String { self.to_string() } })+ };
}
arg_by_display!(
    String,
    usize,
    u64,
    f32,
    f64,
    BackendKind,
    Regime,
    Init,
    Normalize,
    Head,
    Device,
    InitRng,
    DatasetName,
    Hidden,
    Activation,
    OptimizerKind,
    DecayScope,
    Betas,
    bool
);

impl ArgValue for PathBuf {
    fn arg(&self) -> String {
        self.to_string_lossy().into_owned()
    }
}

macro_rules! settings {
    (
        required { $($(#[$m:meta])* $field:ident : $ty:ty = $default:expr,)+ }
        optional { $($(#[$om:meta])* $ofield:ident : $oty:ty,)+ }
        recorded_if_set { $($(#[$sm:meta])* $sfield:ident : $sty:ty,)+ }
    ) => {
        /// Settings of a run, every one optional: from command-line flags, an experiment's
        /// `[defaults]` table or one of its `[[run]]` tables (same names, kebab-case).
        #[derive(Debug, Clone, Default, PartialEq, clap::Args, Deserialize)]
        #[serde(deny_unknown_fields, rename_all = "kebab-case")]
        pub struct Settings {
            $($(#[$m])* pub $field: Option<$ty>,)+
            $($(#[$om])* pub $ofield: Option<$oty>,)+
            $($(#[$sm])* pub $sfield: Option<$sty>,)+
        }

        impl Settings {
            /// Each setting from `self`, else from `base`.
            pub fn or(self, base: &Settings) -> Settings {
                Settings {
                    $($field: self.$field.or_else(|| base.$field.clone()),)+
                    $($ofield: self.$ofield.or_else(|| base.$ofield.clone()),)+
                    $($sfield: self.$sfield.or_else(|| base.$sfield.clone()),)+
                }
            }

            /// The command-line flags that give these settings (`--lr 0.1 …`), for a child
            /// process that must plan the same runs.
            pub fn to_args(&self) -> Vec<String> {
                let mut args = vec![];
                $(if let Some(v) = &self.$field {
                    args.push(format!("--{}", stringify!($field).replace('_', "-")));
                    args.push(ArgValue::arg(v));
                })+
                $(if let Some(v) = &self.$ofield {
                    args.push(format!("--{}", stringify!($ofield).replace('_', "-")));
                    args.push(ArgValue::arg(v));
                })+
                $(if let Some(v) = &self.$sfield {
                    args.push(format!("--{}", stringify!($sfield).replace('_', "-")));
                    args.push(ArgValue::arg(v));
                })+
                args
            }

            /// Every setting of a complete config (for `--config-from`).
            pub fn from_config(c: &RunConfig) -> Settings {
                Settings {
                    $($field: Some(c.$field.clone()),)+
                    $($ofield: c.$ofield.clone(),)+
                    $($sfield: c.$sfield.clone(),)+
                }
            }

            /// The complete config, with the report's defaults for what is unset (threads:
            /// see [`Settings::resolve`]).
            fn resolve_defaults(self) -> RunConfig {
                RunConfig {
                    $($field: self.$field.unwrap_or_else(|| $default),)+
                    $($ofield: self.$ofield,)+
                    $($sfield: self.$sfield,)+
                }
            }
        }

        /// Every option of one run, as used and as recorded in its result's `config`.
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
        #[serde(deny_unknown_fields)]
        pub struct RunConfig {
            $(#[allow(missing_docs)] pub $field: $ty,)+
            $(#[allow(missing_docs)] pub $ofield: Option<$oty>,)+
            // Absent from the JSON when unset, so that results of the other backends read
            // and hash as before these settings existed.
            $(#[allow(missing_docs)]
              #[serde(default, skip_serializing_if = "Option::is_none")]
              pub $sfield: Option<$sty>,)+
        }
    };
}
