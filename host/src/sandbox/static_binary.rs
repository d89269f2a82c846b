//! The sandbox's root file system holds nothing but nestbox itself, so the binary must be static:
//! an ELF executable without a program interpreter (`PT_INTERP`).

use std::io::Read;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum StaticBinaryError {
    #[error("finding this program's own path: {0}")]
    CurrentExe(std::io::Error),
    #[error("reading {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "{path} is dynamically linked, so it cannot run inside the empty gVisor root; \
         fix: build it with scripts/setup.sh (a static-pie build, see .cargo/config.toml)"
    )]
    Dynamic { path: PathBuf },
    #[error("{path} is not a 64-bit little-endian ELF executable")]
    NotElf { path: PathBuf },
}

/// This program's path, checked to be static.
pub fn current() -> Result<PathBuf, StaticBinaryError> {
    let path = std::env::current_exe().map_err(StaticBinaryError::CurrentExe)?;
    check(&path)?;
    Ok(path)
}

/// Check that `path` is a static ELF64 executable.
pub fn check(path: &Path) -> Result<(), StaticBinaryError> {
    let read = |source| StaticBinaryError::Read {
        path: path.to_path_buf(),
        source,
    };
    let mut f = std::fs::File::open(path).map_err(read)?;
    let mut head = vec![0u8; 64 * 1024];
    let n = f.read(&mut head).map_err(read)?;
    head.truncate(n);
    let not_elf = || StaticBinaryError::NotElf {
        path: path.to_path_buf(),
    };
    if head.len() < 64 || &head[..4] != b"\x7fELF" || head[4] != 2 || head[5] != 1 {
        return Err(not_elf());
    }
    let u16_at = |o: usize| u16::from_le_bytes([head[o], head[o + 1]]) as usize;
    let u64_at = |o: usize| {
        let mut b = [0u8; 8];
        b.copy_from_slice(&head[o..o + 8]);
        u64::from_le_bytes(b) as usize
    };
    let phoff = u64_at(0x20);
    let phentsize = u16_at(0x36);
    let phnum = u16_at(0x38);
    for i in 0..phnum {
        let at = phoff + i * phentsize;
        if at + 4 > head.len() {
            return Err(not_elf());
        }
        const PT_INTERP: u32 = 3;
        if u32::from_le_bytes([head[at], head[at + 1], head[at + 2], head[at + 3]]) == PT_INTERP {
            return Err(StaticBinaryError::Dynamic {
                path: path.to_path_buf(),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_system_binary_is_dynamic_and_we_are_static() {
        // /bin/sh on Debian is dynamically linked.
        assert!(matches!(
            check(Path::new("/bin/sh")),
            Err(StaticBinaryError::Dynamic { .. })
        ));
        let d = tempfile::tempdir().unwrap();
        let f = d.path().join("x");
        std::fs::write(&f, "#!/bin/sh\n").unwrap();
        assert!(matches!(check(&f), Err(StaticBinaryError::NotElf { .. })));
        // The test binary is built with the same static flags as nestbox.
        check(&std::env::current_exe().unwrap()).unwrap();
    }
}
