//! `docidx completions`, `docidx man` and `docidx init`.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, CommandFactory};
use clap_complete::Shell;
use docidx::markers::{BEGIN, END};
use docidx::output::{read_if_exists, write_atomic};
use docidx::{generate, Config};

use crate::cli::Cli;

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to write completions for
    pub shell: Shell,
}

/// Prints a completion script for `shell` on stdout.
pub fn completions(args: CompletionsArgs) -> docidx::Result<ExitCode> {
    let mut cmd = Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, "docidx", &mut script);
    print(&script)?;
    Ok(ExitCode::SUCCESS)
}

/// Writes `bytes` to stdout. A reader that stops early (`docidx man | head`) is not an error.
fn print(bytes: &[u8]) -> docidx::Result<()> {
    match std::io::stdout().write_all(bytes) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(docidx::Error::io("<stdout>", e))
        }
        _ => Ok(()),
    }
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// Write docidx.1 and one page per subcommand (docidx-generate.1, …) into this folder
    /// instead of printing docidx.1
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,
}

/// Prints the man page (roff), or writes every page into a folder.
pub fn man(args: ManArgs) -> docidx::Result<ExitCode> {
    let cmd = Cli::command();
    let render = |cmd: clap::Command| -> docidx::Result<Vec<u8>> {
        let mut out = Vec::new();
        clap_mangen::Man::new(cmd)
            .render(&mut out)
            .map_err(|e| docidx::Error::io("<man page>", e))?;
        Ok(out)
    };
    let Some(dir) = args.out_dir else {
        print(&render(cmd)?)?;
        return Ok(ExitCode::SUCCESS);
    };
    std::fs::create_dir_all(&dir).map_err(|e| docidx::Error::io(&dir, e))?;
    write_atomic(&dir.join("docidx.1"), &render(cmd.clone())?)?;
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        let name = format!("docidx-{}", sub.get_name());
        let page = render(sub.clone().name(name.clone()))?;
        write_atomic(&dir.join(format!("{name}.1")), &page)?;
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// The docs tree [default: the current folder]
    pub root: Option<PathBuf>,
}

/// Writes `docidx.toml` (if absent) and adds the markers to `INDEX.md` (appending them at the
/// end of an existing file and changing nothing else, or creating the file).
pub fn init(args: InitArgs) -> docidx::Result<ExitCode> {
    let root = args.root.unwrap_or_else(|| PathBuf::from("."));
    let mut stderr = std::io::stderr().lock();
    let config_path = root.join(docidx::config::CONFIG_FILE);
    if config_path.exists() {
        let _ = writeln!(stderr, "{} exists; left as it is", config_path.display());
    } else {
        write_atomic(&config_path, docidx::config::EXAMPLE.as_bytes())?;
        let _ = writeln!(stderr, "wrote {}", config_path.display());
    }
    let config = Config::load(&root)?;
    let layout = generate::Layout::new(&root, &config)?;
    std::fs::create_dir_all(&layout.out_dir).map_err(|e| docidx::Error::io(&layout.out_dir, e))?;
    match read_if_exists(&layout.index_md)? {
        None => {
            let text = format!("# Documentation index\n\n{BEGIN}\n{END}\n");
            write_atomic(&layout.index_md, text.as_bytes())?;
            let _ = writeln!(stderr, "wrote {}", layout.index_md.display());
        }
        Some(bytes) => {
            let text = String::from_utf8_lossy(&bytes);
            match docidx::markers::find(&text) {
                Ok(Some(_)) => {
                    let _ = writeln!(
                        stderr,
                        "{} already has the markers",
                        layout.index_md.display()
                    );
                }
                Ok(None) => {
                    let newline = if text.contains("\r\n") { "\r\n" } else { "\n" };
                    let mut new = bytes.clone();
                    if !new.is_empty() && !new.ends_with(b"\n") {
                        new.extend_from_slice(newline.as_bytes());
                    }
                    new.extend_from_slice(
                        format!("{newline}{BEGIN}{newline}{END}{newline}").as_bytes(),
                    );
                    write_atomic(&layout.index_md, &new)?;
                    let _ = writeln!(
                        stderr,
                        "added the docidx markers at the end of {}; move them where the generated index should go",
                        layout.index_md.display()
                    );
                }
                Err(message) => {
                    return Err(docidx::Error::Markers {
                        path: layout.index_md,
                        message,
                    });
                }
            }
        }
    }
    let _ = writeln!(stderr, "next: docidx generate {}", root.display());
    Ok(ExitCode::SUCCESS)
}
