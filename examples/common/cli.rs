//! The command lines of the examples (`#[path = "common/cli.rs"] mod cli;`), parsed with
//! `lexopt`: `-h`/`--help` prints the usage line, and an unknown option, a stray argument or a
//! bad value is refused with the usage line instead of being ignored.

// Each includer uses a different part of this file.
#![allow(dead_code)]

use lexopt::{Arg, Parser};

/// Parses the command line of the example `name`. `on_arg` sees each argument, with the parser
/// to read an option's value, and returns whether it knew it. `-h`/`--help` prints `usage` and
/// exits with status 0; an argument `on_arg` does not know, or an error it returns, is printed
/// with `usage` on standard error and exits with status 2.
pub fn parse(
    name: &str,
    usage: &str,
    mut on_arg: impl FnMut(Arg<'_>, &mut Parser) -> Result<bool, lexopt::Error>,
) {
    let mut each = || -> Result<(), lexopt::Error> {
        let mut parser = Parser::from_env();
        while let Some(arg) = parser.next()? {
            // `Arg::Long` borrows the parser, which `on_arg` needs to read a value: hand it a
            // copy of the name instead.
            let long: String;
            let arg = match arg {
                Arg::Long(l) => {
                    long = l.to_string();
                    Arg::Long(&long)
                }
                Arg::Short(c) => Arg::Short(c),
                Arg::Value(v) => Arg::Value(v),
            };
            if matches!(arg, Arg::Short('h') | Arg::Long("help")) {
                println!("{usage}");
                std::process::exit(0);
            }
            if !on_arg(arg.clone(), &mut parser)? {
                return Err(arg.unexpected());
            }
        }
        Ok(())
    };
    if let Err(e) = each() {
        eprintln!("{name}: {e}\n{usage}");
        std::process::exit(2);
    }
}

/// The command line of an example that takes no arguments: only `-h`/`--help`.
pub fn no_args(name: &str) {
    parse(name, &format!("usage: {name} (no arguments)"), |_, _| {
        Ok(false)
    });
}
