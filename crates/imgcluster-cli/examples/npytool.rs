//! Small `.npy` helper for the distributed tests (`tests/mpi/distributed.sh`):
//!
//!   npytool blobs OUT.npy N D DTYPE SEED   clustered samples, u8 or f32
//!   npytool poke OUT.npy ROW COL nan       sets one f32 value to NaN
//!   npytool split IN.npy OUT_{rank}.npy P  one file per rank: rows [r*N/P, (r+1)*N/P)
//!   npytool close A.npy B.npy TOL          f32 arrays equal within TOL relative (|b| >= 1)
//!   npytool json FIELD FILE.json           prints a top-level field of a JSON object
//!
//! `blobs` draws from Python's `random.Random(SEED)` (MT19937 seeded by `init_by_array`,
//! `randrange` by rejection on `getrandbits`, `random()` from 53 bits), so its files are the
//! ones the former Python helper wrote, byte for byte.

use std::process::ExitCode;

/// MT19937 as CPython's `random.Random(seed)` for a seed below 2³².
struct PyRandom {
    mt: [u32; 624],
    i: usize,
}

impl PyRandom {
    fn new(seed: u32) -> Self {
        let mut mt = [0_u32; 624];
        mt[0] = 19_650_218;
        for i in 1..624 {
            mt[i] = 1_812_433_253_u32
                .wrapping_mul(mt[i - 1] ^ (mt[i - 1] >> 30))
                .wrapping_add(i as u32);
        }
        // init_by_array with the key [seed].
        let (mut i, key) = (1, seed);
        for _ in 0..624 {
            mt[i] =
                (mt[i] ^ (mt[i - 1] ^ (mt[i - 1] >> 30)).wrapping_mul(1_664_525)).wrapping_add(key);
            i += 1;
            if i >= 624 {
                mt[0] = mt[623];
                i = 1;
            }
        }
        for _ in 0..623 {
            mt[i] = (mt[i] ^ (mt[i - 1] ^ (mt[i - 1] >> 30)).wrapping_mul(1_566_083_941))
                .wrapping_sub(i as u32);
            i += 1;
            if i >= 624 {
                mt[0] = mt[623];
                i = 1;
            }
        }
        mt[0] = 0x8000_0000;
        PyRandom { mt, i: 624 }
    }

    fn next_u32(&mut self) -> u32 {
        if self.i >= 624 {
            for k in 0..624 {
                let y = (self.mt[k] & 0x8000_0000) | (self.mt[(k + 1) % 624] & 0x7fff_ffff);
                let mag = if y & 1 == 1 { 0x9908_b0df } else { 0 };
                self.mt[k] = self.mt[(k + 397) % 624] ^ (y >> 1) ^ mag;
            }
            self.i = 0;
        }
        let mut y = self.mt[self.i];
        self.i += 1;
        y ^= y >> 11;
        y ^= (y << 7) & 0x9d2c_5680;
        y ^= (y << 15) & 0xefc6_0000;
        y ^ (y >> 18)
    }

    /// `randrange(n)` for 0 < n < 2³².
    fn below(&mut self, n: u32) -> u32 {
        let k = 32 - n.leading_zeros();
        loop {
            let r = self.next_u32() >> (32 - k);
            if r < n {
                return r;
            }
        }
    }

    /// `random()`: 53 random bits in [0, 1).
    fn random(&mut self) -> f64 {
        let a = f64::from(self.next_u32() >> 5);
        let b = f64::from(self.next_u32() >> 6);
        (a * 67_108_864.0 + b) * (1.0 / 9_007_199_254_740_992.0)
    }
}

/// A version 1.0 `.npy` header, as NumPy writes it.
fn header(descr: &str, shape: &[usize]) -> Vec<u8> {
    let dims: Vec<String> = shape.iter().map(|s| s.to_string()).collect();
    let comma = if shape.len() == 1 { "," } else { "" };
    let mut h = format!(
        "{{'descr': '{descr}', 'fortran_order': False, 'shape': ({}{comma}), }}",
        dims.join(", ")
    );
    h.push_str(&" ".repeat((64 - (10 + h.len() + 1) % 64) % 64));
    h.push('\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend_from_slice(&(h.len() as u16).to_le_bytes());
    out.extend_from_slice(h.as_bytes());
    out
}

struct Npy {
    descr: String,
    shape: Vec<usize>,
    /// Where the values start in `raw`.
    start: usize,
    raw: Vec<u8>,
}

fn read(path: &str) -> Result<Npy, String> {
    let raw = std::fs::read(path).map_err(|e| format!("{path}: {e}"))?;
    let bad = || format!("{path}: not a version 1 .npy file");
    let hlen = usize::from(u16::from_le_bytes([
        *raw.get(8).ok_or_else(bad)?,
        *raw.get(9).ok_or_else(bad)?,
    ]));
    let h = std::str::from_utf8(raw.get(10..10 + hlen).ok_or_else(bad)?).map_err(|_| bad())?;
    let descr = h.split("'descr': '").nth(1).ok_or_else(bad)?;
    let descr = descr.split('\'').next().ok_or_else(bad)?.to_string();
    let dims = h.split('(').nth(1).ok_or_else(bad)?;
    let dims = dims.split(')').next().ok_or_else(bad)?;
    let shape = dims
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().map_err(|_| bad()))
        .collect::<Result<Vec<usize>, String>>()?;
    Ok(Npy {
        descr,
        shape,
        start: 10 + hlen,
        raw,
    })
}

fn write(path: &str, bytes: &[u8]) -> Result<(), String> {
    std::fs::write(path, bytes).map_err(|e| format!("{path}: {e}"))
}

fn num<T: std::str::FromStr>(s: &str) -> Result<T, String> {
    s.parse().map_err(|_| format!("{s:?} is not a number"))
}

fn f32s(a: &Npy) -> Vec<f32> {
    a.raw[a.start..]
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

fn run(args: &[String]) -> Result<ExitCode, String> {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args[..] {
        ["blobs", out, n, d, dtype, seed] => {
            let (n, d): (usize, usize) = (num(n)?, num(d)?);
            let mut rng = PyRandom::new(num(seed)?);
            let centers: Vec<Vec<u32>> = (0..9)
                .map(|_| (0..d).map(|_| rng.below(200)).collect())
                .collect();
            let mut vals = Vec::with_capacity(n * d);
            for _ in 0..n {
                let c = &centers[rng.below(9) as usize];
                vals.extend(c.iter().map(|&x| (x + rng.below(56)).min(255)));
            }
            let mut data;
            match dtype {
                "u8" => {
                    data = header("|u1", &[n, d]);
                    data.extend(vals.iter().map(|&v| v as u8));
                }
                "f32" => {
                    data = header("<f4", &[n, d]);
                    for &v in &vals {
                        let x = (f64::from(v) * 0.37 + rng.random()) as f32;
                        data.extend_from_slice(&x.to_le_bytes());
                    }
                }
                _ => return Err(format!("unknown dtype {dtype} (u8 or f32)")),
            }
            write(out, &data)?;
        }
        ["poke", path, row, col, "nan"] => {
            let (row, col): (usize, usize) = (num(row)?, num(col)?);
            let mut a = read(path)?;
            let at = a.start + 4 * (row * a.shape[1] + col);
            a.raw[at..at + 4].copy_from_slice(&f32::NAN.to_le_bytes());
            write(path, &a.raw)?;
        }
        ["split", path, pattern, p] => {
            let p: usize = num(p)?;
            let a = read(path)?;
            let n = a.shape[0];
            let row = (a.raw.len() - a.start) / n;
            for r in 0..p {
                let (lo, hi) = (r * n / p, (r + 1) * n / p);
                let mut shape = vec![hi - lo];
                shape.extend_from_slice(&a.shape[1..]);
                let mut out = header(&a.descr, &shape);
                out.extend_from_slice(&a.raw[a.start + lo * row..a.start + hi * row]);
                write(&pattern.replace("{rank}", &r.to_string()), &out)?;
            }
        }
        ["close", a, b, tol] => {
            let tol: f64 = num(tol)?;
            let (a, b) = (read(a)?, read(b)?);
            if a.descr != "<f4" || b.descr != "<f4" || a.shape != b.shape {
                return Err(format!(
                    "not two f32 arrays of one shape: {} {:?} and {} {:?}",
                    a.descr, a.shape, b.descr, b.shape
                ));
            }
            let worst = f32s(&a)
                .iter()
                .zip(f32s(&b))
                .map(|(&x, y)| (f64::from(x) - f64::from(y)).abs() / f64::from(y).abs().max(1.0))
                .fold(0.0, |m, d| if d > m || d.is_nan() { d } else { m }); // a NaN fails
            println!("largest relative difference {worst:.3e}");
            return Ok(if worst <= tol {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            });
        }
        ["json", field, path] => {
            let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
            let v: serde_json::Value =
                serde_json::from_str(&text).map_err(|e| format!("{path}: {e}"))?;
            match v.get(field) {
                Some(serde_json::Value::String(s)) => println!("{s}"),
                Some(v) => println!("{v}"),
                None => return Err(format!("{path}: no field {field:?}")),
            }
        }
        _ => {
            return Err(format!(
                "unknown command {args:?}; see the top of npytool.rs"
            ))
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("npytool: {e}");
            ExitCode::FAILURE
        }
    }
}
