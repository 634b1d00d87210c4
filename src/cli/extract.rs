//! `understudy extract`: cut a spec out of a vendor's, as a recipe says.

use super::args::ExtractArgs;
use super::common::EXIT_UNUSABLE;

pub fn extract_command(args: ExtractArgs) -> i32 {
    use crate::spec::recipe::Recipe;
    let mut differs = false;
    for path in &args.recipes {
        let built = Recipe::load(path).and_then(|recipe| {
            let spec = recipe.build(&args.upstream)?;
            Ok((recipe, spec))
        });
        let (recipe, spec) = match built {
            Ok(done) => done,
            Err(e) => {
                eprint!(
                    "{}",
                    crate::source::diagnostic::render(&e.to_string(), &e.location())
                );
                return EXIT_UNUSABLE;
            }
        };
        let text = Recipe::render(&spec);
        let output = recipe.output.display();
        if args.check {
            match std::fs::read_to_string(&recipe.output) {
                Ok(written) if written == text => println!("{output}: as the recipe makes it"),
                Ok(_) => {
                    println!("{output}: differs from what {} makes", path.display());
                    differs = true;
                }
                Err(e) => {
                    eprintln!("error: {output}: cannot read it: {e}");
                    return EXIT_UNUSABLE;
                }
            }
        } else if let Err(e) = crate::source::atomic_file::write(&recipe.output, text.as_bytes()) {
            eprintln!("error: {output}: cannot write it: {e}");
            return EXIT_UNUSABLE;
        } else {
            println!(
                "{output}: {} operations of {}",
                recipe.operations.len(),
                recipe.upstream
            );
        }
    }
    i32::from(differs)
}
