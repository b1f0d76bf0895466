// Turns every TypeScript block of README.md and docs/**/*.md into a file of a consumer project,
// so CI typechecks the docs against the packed package and runs the blocks marked ```ts test.
// Mark every block that can run; only blocks that need a network or a database server stay
// typecheck-only.
//
// A block may assume names its prose leaves out: an HTML comment right before the fence,
// `<!-- prelude ... -->`, holds imports and the values it needs (or `declare`s, for a block that
// only typechecks), prepended to it. An HTML comment right after the fence, `<!-- check ... -->`,
// holds statements appended to it: assertions that the block did what its prose says (a block
// can catch an error and print a line, and still be wrong). Both stay hidden when the Markdown is
// rendered. A test block runs as a vitest file: its top-level code, awaited as the file loads,
// then its own tests if it declares any (`describe`, `it`, `test`), else one that says it ran.
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { basename, join, relative } from "node:path";

const BLOCK = /(?:<!--\s*prelude\n([\s\S]*?)-->\s*\n)?```ts( test)?\n([\s\S]*?)```(?:[ \t]*\n<!--\s*check\n([\s\S]*?)-->)?/g;

function markdownFiles(root) {
  const docs = join(root, "docs");
  const found = [join(root, "README.md")];
  const walk = (dir) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (name === "api" || name === "node_modules") continue;
      if (statSync(path).isDirectory()) walk(path);
      else if (name.endsWith(".md")) found.push(path);
    }
  };
  walk(docs);
  return found;
}

/** Writes the project into `dir`; returns how many blocks it holds, and how many are tests. */
export function writeDocsProject(root, dir) {
  mkdirSync(dir, { recursive: true });
  let blocks = 0;
  let tests = 0;
  for (const file of markdownFiles(root)) {
    const text = readFileSync(file, "utf8");
    const stem = relative(root, file).replace(/[\\/]/g, "_").replace(/\.md$/, "");
    let n = 0;
    for (const [, prelude = "", test, code, check = ""] of text.matchAll(BLOCK)) {
      n += 1;
      blocks += 1;
      if (test) tests += 1;
      const line = text.slice(0, text.indexOf(code)).split("\n").length;
      const where = `${basename(file)}, block ${n} (line ${line})`;
      const ran = test && !/^\s*(describe|it|test)\(/m.test(code) ? `import { test as ranAsShown } from "vitest";\nranAsShown(${JSON.stringify(`${where} runs`)}, () => {});\n` : "";
      const source = `// ${where}\n${prelude}${code}${check}${ran}\nexport {};\n`;
      writeFileSync(join(dir, `${stem}-${n}${test ? ".test" : ""}.ts`), source);
    }
  }
  writeFileSync(join(dir, "package.json"), `${JSON.stringify({ name: "docs", private: true, type: "module" }, null, 2)}\n`);
  writeFileSync(
    join(dir, "tsconfig.json"),
    `${JSON.stringify(
      {
        compilerOptions: {
          target: "ES2022",
          module: "nodenext",
          moduleResolution: "nodenext",
          strict: true,
          noUncheckedIndexedAccess: true,
          // the framework packages the integration docs import ship declarations that do not agree
          // with each other (@langchain/core augments vitest's Assertion); this package's own
          // declarations are checked with skipLibCheck off by esm-ts, cjs-ts and store-author
          skipLibCheck: true,
          noEmit: true,
          types: ["node"],
        },
        include: ["*.ts"],
      },
      null,
      2,
    )}\n`,
  );
  return { blocks, tests };
}
