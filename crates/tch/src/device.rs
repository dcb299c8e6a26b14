//! Where the tch backend computes, as twinnet names it (libtorch's own device type stays
//! inside this crate).

use crate::TchBackendError;
use std::fmt;
use twinnet_core::Device;

/// A device libtorch computes on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TchDevice {
    /// The CPU.
    Cpu,
    /// The CUDA GPU with this ordinal.
    Cuda(usize),
}

impl TchDevice {
    /// The device a `--device` option asks for on this machine: `cuda` is the first GPU and an
    /// error ([`TchBackendError::NoCuda`]) when libtorch finds none; `auto` is the first GPU
    /// when there is one, else the CPU.
    pub fn resolve(device: Device) -> Result<Self, TchBackendError> {
        match device {
            Device::Cpu => Ok(Self::Cpu),
            Device::Cuda if tch::Cuda::is_available() => Ok(Self::Cuda(0)),
            Device::Cuda => Err(TchBackendError::NoCuda),
            Device::Auto => Ok(tch::Device::cuda_if_available().into()),
        }
    }

    /// Whether libtorch finds a CUDA GPU (and CUDA is linked into this executable).
    pub fn cuda_available() -> bool {
        tch::Cuda::is_available()
    }
}

impl fmt::Display for TchDevice {
    /// `cpu`, `cuda:0`: PyTorch's spelling.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Cpu => f.write_str("cpu"),
            Self::Cuda(i) => write!(f, "cuda:{i}"),
        }
    }
}

impl From<TchDevice> for tch::Device {
    fn from(d: TchDevice) -> Self {
        match d {
            TchDevice::Cpu => tch::Device::Cpu,
            TchDevice::Cuda(i) => tch::Device::Cuda(i),
        }
    }
}

impl From<tch::Device> for TchDevice {
    fn from(d: tch::Device) -> Self {
        match d {
            tch::Device::Cuda(i) => TchDevice::Cuda(i),
            _ => TchDevice::Cpu,
        }
    }
}
