//! `sleep`, `yes` and `seq` without bashkit's per-command caps.
//!
//! bashkit caps these for untrusted use inside a bigger program (sleep at 60 s, yes at 10,000
//! lines, seq at 100,000 lines, each silently or with an error). In nestbox the host bounds time,
//! fuel, memory and output for the whole run, so the caps only make scripts differ from bash
//! (`seq 1 1000000 | awk ...` gave the sum of the first 100,000). These stream their output
//! through bashkit's `Command` API, so `yes | head -n 3` ends when `head` stops reading.

use bashkit::{Command, CommandContext, CommandStatus, Error, Result};
use std::time::Duration;

/// Bytes written per chunk by the streaming commands.
const CHUNK: usize = 16 * 1024;
/// bash's status for a process killed by SIGPIPE.
const STATUS_SIGPIPE: i32 = 141;

/// Writes `bytes`; `Ok(false)` when the reader went away (the command then ends like SIGPIPE).
async fn emit(ctx: &CommandContext<'_>, bytes: &[u8]) -> Result<bool> {
    match ctx.stdout.write_all(bytes).await {
        Ok(()) => Ok(true),
        Err(Error::Io(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(false),
        Err(e) => Err(e),
    }
}

async fn fail(ctx: &CommandContext<'_>, msg: String) -> Result<CommandStatus> {
    let _ = ctx.stderr.write_all(msg.as_bytes()).await;
    Ok(CommandStatus::with_code(1))
}

fn try_help(cmd: &str) -> String {
    format!("Try '{cmd} --help' for more information.\n")
}

pub struct Sleep;

#[bashkit::async_trait]
impl Command for Sleep {
    async fn execute(&self, ctx: CommandContext<'_>) -> Result<CommandStatus> {
        if ctx.args.is_empty() {
            return fail(
                &ctx,
                format!("sleep: missing operand\n{}", try_help("sleep")),
            )
            .await;
        }
        let mut total = 0f64;
        for arg in ctx.args {
            let (num, mult) = match arg.chars().last() {
                Some('s') => (&arg[..arg.len() - 1], 1.0),
                Some('m') => (&arg[..arg.len() - 1], 60.0),
                Some('h') => (&arg[..arg.len() - 1], 3600.0),
                Some('d') => (&arg[..arg.len() - 1], 86400.0),
                _ => (arg.as_str(), 1.0),
            };
            match num.parse::<f64>() {
                Ok(v) if v >= 0.0 && !v.is_nan() => total += v * mult,
                _ => {
                    return fail(
                        &ctx,
                        format!(
                            "sleep: invalid time interval '{arg}'\n{}",
                            try_help("sleep")
                        ),
                    )
                    .await;
                }
            }
        }
        if total > 0.0 {
            // tokio's timer parks the (only) thread: one WASI poll_oneoff the host can bound.
            tokio::time::sleep(Duration::try_from_secs_f64(total).unwrap_or(Duration::MAX)).await;
        }
        Ok(CommandStatus::success())
    }
}

pub struct Yes;

#[bashkit::async_trait]
impl Command for Yes {
    async fn execute(&self, ctx: CommandContext<'_>) -> Result<CommandStatus> {
        let mut line = if ctx.args.is_empty() {
            "y".to_string()
        } else {
            ctx.args.join(" ")
        };
        line.push('\n');
        let mut chunk = line.repeat((CHUNK / line.len()).max(1));
        chunk.shrink_to_fit();
        loop {
            if !emit(&ctx, chunk.as_bytes()).await? {
                return Ok(CommandStatus::with_code(STATUS_SIGPIPE));
            }
        }
    }
}

pub struct Seq;

/// One parsed `printf`-style conversion for `seq -f`.
struct Format {
    prefix: String,
    flags: String,
    width: Option<usize>,
    precision: Option<usize>,
    conv: char,
    suffix: String,
}

impl Format {
    fn parse(fmt: &str) -> std::result::Result<Format, String> {
        let bad = || format!("seq: format '{fmt}' has no % directive\n");
        let mut prefix = String::new();
        let mut chars = fmt.chars().peekable();
        loop {
            match chars.next() {
                None => return Err(bad()),
                Some('%') if chars.peek() == Some(&'%') => {
                    chars.next();
                    prefix.push('%');
                }
                Some('%') => break,
                Some(c) => prefix.push(c),
            }
        }
        let mut flags = String::new();
        while let Some(&c) = chars.peek() {
            if "-+ #0'".contains(c) {
                flags.push(c);
                chars.next();
            } else {
                break;
            }
        }
        let num = |chars: &mut std::iter::Peekable<std::str::Chars>| {
            let mut s = String::new();
            while let Some(&c) = chars.peek() {
                if c.is_ascii_digit() {
                    s.push(c);
                    chars.next();
                } else {
                    break;
                }
            }
            s.parse::<usize>().ok()
        };
        let width = num(&mut chars);
        let precision = if chars.peek() == Some(&'.') {
            chars.next();
            Some(num(&mut chars).unwrap_or(0))
        } else {
            None
        };
        let conv = match chars.next() {
            Some(c) if "eEfFgGaA".contains(c) => c,
            _ => {
                return Err(format!(
                    "seq: format '{fmt}' has unknown %{}\n",
                    "directive"
                ));
            }
        };
        let mut suffix = String::new();
        while let Some(c) = chars.next() {
            if c == '%' {
                if chars.peek() == Some(&'%') {
                    chars.next();
                    suffix.push('%');
                } else {
                    return Err(format!("seq: format '{fmt}' has too many % directives\n"));
                }
            } else {
                suffix.push(c);
            }
        }
        Ok(Format {
            prefix,
            flags,
            width,
            precision,
            conv,
            suffix,
        })
    }

    fn render(&self, v: f64) -> String {
        let prec = self.precision.unwrap_or(6);
        let body = match self.conv {
            'f' | 'F' => format!("{:.*}", prec, v.abs()),
            'e' | 'E' => c_exp(v.abs(), prec, self.conv == 'E'),
            _ => c_general(v.abs(), prec, self.flags.contains('#'), self.conv == 'G'),
        };
        let sign = if v < 0.0 || (v == 0.0 && v.is_sign_negative()) {
            "-"
        } else if self.flags.contains('+') {
            "+"
        } else if self.flags.contains(' ') {
            " "
        } else {
            ""
        };
        let width = self.width.unwrap_or(0);
        let len = sign.len() + body.len();
        let num = if len >= width {
            format!("{sign}{body}")
        } else if self.flags.contains('-') {
            format!("{sign}{body}{}", " ".repeat(width - len))
        } else if self.flags.contains('0') {
            format!("{sign}{}{body}", "0".repeat(width - len))
        } else {
            format!("{}{sign}{body}", " ".repeat(width - len))
        };
        format!("{}{num}{}", self.prefix, self.suffix)
    }
}

/// C's `%.{prec}e` for a non-negative value.
fn c_exp(v: f64, prec: usize, upper: bool) -> String {
    let s = format!("{:.*e}", prec, v);
    let (mant, exp) = s.split_once('e').unwrap_or((&s, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let e = if upper { 'E' } else { 'e' };
    format!(
        "{mant}{e}{}{:02}",
        if exp < 0 { '-' } else { '+' },
        exp.abs()
    )
}

/// C's `%.{prec}g` for a non-negative value.
fn c_general(v: f64, prec: usize, alt: bool, upper: bool) -> String {
    let p = prec.max(1);
    if v == 0.0 {
        return if alt {
            format!("{:.*}", p - 1, 0.0)
        } else {
            "0".into()
        };
    }
    let exp = {
        let s = format!("{:.*e}", p - 1, v);
        s.split_once('e')
            .and_then(|(_, e)| e.parse::<i32>().ok())
            .unwrap_or(0)
    };
    let mut s = if exp < -4 || exp >= p as i32 {
        c_exp(v, p - 1, upper)
    } else {
        format!("{:.*}", (p as i32 - 1 - exp).max(0) as usize, v)
    };
    if !alt {
        let (mant, tail) = match s.find(['e', 'E']) {
            Some(i) => (s[..i].to_string(), s[i..].to_string()),
            None => (s.clone(), String::new()),
        };
        let mant = if mant.contains('.') {
            mant.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            mant
        };
        s = mant + &tail;
    }
    s
}

/// Digits after the decimal point of a seq operand, for its default output format.
fn decimals(arg: &str) -> usize {
    match arg.split_once('.') {
        Some((_, frac)) if !arg.contains(['e', 'E']) => frac.len(),
        _ => 0,
    }
}

#[bashkit::async_trait]
impl Command for Seq {
    async fn execute(&self, ctx: CommandContext<'_>) -> Result<CommandStatus> {
        let mut sep = "\n".to_string();
        let mut equal_width = false;
        let mut format: Option<String> = None;
        let mut ops: Vec<&str> = Vec::new();
        let mut args = ctx.args.iter();
        while let Some(a) = args.next() {
            match a.as_str() {
                "-w" | "--equal-width" => equal_width = true,
                "-s" | "--separator" | "-f" | "--format" => {
                    let Some(v) = args.next() else {
                        return fail(
                            &ctx,
                            format!(
                                "seq: option requires an argument -- '{}'\n{}",
                                &a[1..2],
                                try_help("seq")
                            ),
                        )
                        .await;
                    };
                    if a.starts_with("-s") || a == "--separator" {
                        sep = v.clone()
                    } else {
                        format = Some(v.clone())
                    }
                }
                s if s.starts_with("-s") && s.len() > 2 => sep = s[2..].to_string(),
                s if s.starts_with("-f") && s.len() > 2 => format = Some(s[2..].to_string()),
                s if s.starts_with("--separator=") => sep = s["--separator=".len()..].to_string(),
                s if s.starts_with("--format=") => {
                    format = Some(s["--format=".len()..].to_string())
                }
                "--" => ops.extend(args.by_ref().map(String::as_str)),
                s if s.starts_with('-') && s.len() > 1 && s.parse::<f64>().is_err() => {
                    return fail(
                        &ctx,
                        format!("seq: invalid option -- '{}'\n{}", &s[1..2], try_help("seq")),
                    )
                    .await;
                }
                s => ops.push(s),
            }
        }
        if ops.is_empty() {
            return fail(&ctx, format!("seq: missing operand\n{}", try_help("seq"))).await;
        }
        if ops.len() > 3 {
            return fail(
                &ctx,
                format!("seq: extra operand '{}'\n{}", ops[3], try_help("seq")),
            )
            .await;
        }
        let mut nums = Vec::new();
        for op in &ops {
            match op.trim().parse::<f64>() {
                Ok(v) if !v.is_nan() => nums.push(v),
                _ => {
                    return fail(
                        &ctx,
                        format!(
                            "seq: invalid floating point argument: '{op}'\n{}",
                            try_help("seq")
                        ),
                    )
                    .await;
                }
            }
        }
        let (first, incr, last) = match nums.len() {
            1 => (1.0, 1.0, nums[0]),
            2 => (nums[0], 1.0, nums[1]),
            _ => (nums[0], nums[1], nums[2]),
        };
        let (first_s, incr_s) = match ops.len() {
            1 => ("1", "1"),
            2 => (ops[0], "1"),
            _ => (ops[0], ops[1]),
        };
        if incr == 0.0 {
            return fail(
                &ctx,
                format!(
                    "seq: invalid Zero increment value: '{incr_s}'\n{}",
                    try_help("seq")
                ),
            )
            .await;
        }
        let fmt = match format.as_deref().map(Format::parse).transpose() {
            Ok(f) => f,
            Err(msg) => return fail(&ctx, msg).await,
        };
        let prec = decimals(first_s).max(decimals(incr_s));
        let integers = fmt.is_none()
            && prec == 0
            && [first, incr, last]
                .iter()
                .all(|v| v.fract() == 0.0 && v.abs() < 9e15);
        let render = |v: f64| -> String {
            match &fmt {
                Some(f) => f.render(v),
                None if integers => format!("{}", v as i64),
                None => format!("{:.*}", prec, v),
            }
        };
        let width = if equal_width && fmt.is_none() {
            render(first).len().max(render(last).len())
        } else {
            0
        };
        let mut buf = String::with_capacity(CHUNK + 64);
        let mut i: u64 = 0;
        let mut any = false;
        loop {
            // Computed from the index, not accumulated, so 0.1 steps do not drift.
            let v = first + (i as f64) * incr;
            let slack = if integers { 0.0 } else { incr.abs() * 1e-10 };
            if (incr > 0.0 && v > last + slack) || (incr < 0.0 && v < last - slack) {
                break;
            }
            if any {
                buf.push_str(&sep);
            }
            any = true;
            let s = render(v);
            if s.len() < width {
                let (sign, digits) = s.strip_prefix('-').map_or(("", s.as_str()), |d| ("-", d));
                buf.push_str(sign);
                buf.push_str(&"0".repeat(width - s.len()));
                buf.push_str(digits);
            } else {
                buf.push_str(&s);
            }
            if buf.len() >= CHUNK {
                if !emit(&ctx, buf.as_bytes()).await? {
                    return Ok(CommandStatus::with_code(STATUS_SIGPIPE));
                }
                buf.clear();
            }
            i += 1;
        }
        if any {
            buf.push('\n');
        }
        if !buf.is_empty() && !emit(&ctx, buf.as_bytes()).await? {
            return Ok(CommandStatus::with_code(STATUS_SIGPIPE));
        }
        Ok(CommandStatus::success())
    }
}

pub struct Head;

enum Count {
    /// The first N lines or bytes.
    First(u64),
    /// All but the last N lines or bytes.
    AllBut(u64),
}

fn parse_count(s: &str) -> Option<Count> {
    let (neg, digits) = match s.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let (num, mult) = match digits.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        None => (digits, 1u64),
        Some((i, _)) => {
            let mult = match &digits[i..] {
                "b" => 512,
                "K" | "KiB" => 1024,
                "kB" => 1000,
                "M" | "MiB" => 1 << 20,
                "MB" => 1_000_000,
                "G" | "GiB" => 1 << 30,
                "GB" => 1_000_000_000,
                _ => return None,
            };
            (&digits[..i], mult)
        }
    };
    let n = num.parse::<u64>().ok()?.checked_mul(mult)?;
    Some(if neg {
        Count::AllBut(n)
    } else {
        Count::First(n)
    })
}

impl Head {
    /// Streams the head of one input; `Ok(false)` when the reader went away.
    async fn one(
        ctx: &CommandContext<'_>,
        data: Option<Vec<u8>>,
        count: &Count,
        bytes: bool,
    ) -> Result<bool> {
        let mut pending = data;
        let from_stdin = pending.is_none();
        let mut next = || {
            let taken = pending.take();
            async move {
                match taken {
                    Some(d) => Ok::<_, Error>(Some(d)),
                    None if from_stdin => ctx.stdin.read_chunk().await,
                    None => Ok(None),
                }
            }
        };
        match *count {
            Count::First(n) => {
                let mut left = n;
                while left > 0 {
                    let Some(chunk) = next().await? else { break };
                    let take = if bytes {
                        (left as usize).min(chunk.len())
                    } else {
                        let mut end = chunk.len();
                        for (i, b) in chunk.iter().enumerate() {
                            if *b == b'\n' {
                                left -= 1;
                                if left == 0 {
                                    end = i + 1;
                                    break;
                                }
                            }
                        }
                        end
                    };
                    if bytes {
                        left -= take as u64;
                    }
                    if !emit(ctx, &chunk[..take]).await? {
                        return Ok(false);
                    }
                }
                Ok(true)
            }
            Count::AllBut(n) => {
                let mut all = Vec::new();
                while let Some(chunk) = next().await? {
                    all.extend_from_slice(&chunk);
                }
                let end = if bytes {
                    all.len().saturating_sub(n as usize)
                } else {
                    let mut ends: Vec<usize> = all
                        .iter()
                        .enumerate()
                        .filter(|(_, b)| **b == b'\n')
                        .map(|(i, _)| i + 1)
                        .collect();
                    if all.last().is_some_and(|b| *b != b'\n') {
                        ends.push(all.len());
                    }
                    let keep = ends.len().saturating_sub(n as usize);
                    if keep == 0 { 0 } else { ends[keep - 1] }
                };
                emit(ctx, &all[..end]).await
            }
        }
    }
}

#[bashkit::async_trait]
impl Command for Head {
    async fn execute(&self, ctx: CommandContext<'_>) -> Result<CommandStatus> {
        let mut count = Count::First(10);
        let mut bytes = false;
        let mut quiet = false;
        let mut verbose = false;
        let mut files: Vec<&str> = Vec::new();
        let mut args = ctx.args.iter();
        while let Some(a) = args.next() {
            let a = a.as_str();
            let (opt, inline) = match a {
                "-n" | "-c" | "--lines" | "--bytes" => (a, None),
                s if s.starts_with("--lines=") => ("--lines", Some(&s[8..])),
                s if s.starts_with("--bytes=") => ("--bytes", Some(&s[8..])),
                s if (s.starts_with("-n") || s.starts_with("-c")) && s.len() > 2 => {
                    (&s[..2], Some(&s[2..]))
                }
                "-q" | "--quiet" | "--silent" => {
                    quiet = true;
                    continue;
                }
                "-v" | "--verbose" => {
                    verbose = true;
                    continue;
                }
                "--" => {
                    files.extend(args.by_ref().map(String::as_str));
                    break;
                }
                s if s.len() > 1
                    && s.starts_with('-')
                    && s[1..].bytes().all(|b| b.is_ascii_digit()) =>
                {
                    count = Count::First(s[1..].parse().unwrap_or(u64::MAX));
                    continue;
                }
                s if s.len() > 1 && s.starts_with('-') => {
                    return fail(
                        &ctx,
                        format!(
                            "head: invalid option -- '{}'\n{}",
                            &s[1..2],
                            try_help("head")
                        ),
                    )
                    .await;
                }
                s => {
                    files.push(s);
                    continue;
                }
            };
            let value = match inline {
                Some(v) => v,
                None => match args.next() {
                    Some(v) => v.as_str(),
                    None => {
                        return fail(
                            &ctx,
                            format!(
                                "head: option requires an argument -- '{}'\n{}",
                                &opt[opt.len() - 1..],
                                try_help("head")
                            ),
                        )
                        .await;
                    }
                },
            };
            bytes = matches!(opt, "-c" | "--bytes");
            count = match parse_count(value) {
                Some(c) => c,
                None => {
                    let what = if bytes { "bytes" } else { "lines" };
                    return fail(&ctx, format!("head: invalid number of {what}: '{value}'\n"))
                        .await;
                }
            };
        }
        if files.is_empty() {
            files.push("-");
        }
        let headers = verbose || (files.len() > 1 && !quiet);
        let mut status = 0;
        for (i, f) in files.iter().enumerate() {
            let data = if *f == "-" {
                None
            } else {
                let path = if f.starts_with('/') {
                    std::path::PathBuf::from(f)
                } else {
                    ctx.cwd.join(f)
                };
                match ctx.fs.read_file(&path).await {
                    Ok(d) => Some(d),
                    Err(e) => {
                        let why = match &e {
                            Error::Io(io) if io.kind() == std::io::ErrorKind::NotFound => {
                                "No such file or directory".to_string()
                            }
                            Error::Io(io) if io.kind() == std::io::ErrorKind::PermissionDenied => {
                                "Permission denied".to_string()
                            }
                            Error::Io(io) if io.to_string().contains("directory") => {
                                "Is a directory".to_string()
                            }
                            other => other.to_string(),
                        };
                        let msg = if why == "Is a directory" {
                            format!("head: error reading '{f}': Is a directory\n")
                        } else {
                            format!("head: cannot open '{f}' for reading: {why}\n")
                        };
                        let _ = ctx.stderr.write_all(msg.as_bytes()).await;
                        status = 1;
                        continue;
                    }
                }
            };
            if headers {
                let name = if *f == "-" { "standard input" } else { f };
                let h = format!("{}==> {name} <==\n", if i > 0 { "\n" } else { "" });
                if !emit(&ctx, h.as_bytes()).await? {
                    return Ok(CommandStatus::with_code(STATUS_SIGPIPE));
                }
            }
            if !Head::one(&ctx, data, &count, bytes).await? {
                return Ok(CommandStatus::with_code(STATUS_SIGPIPE));
            }
        }
        Ok(CommandStatus::with_code(status))
    }
}
