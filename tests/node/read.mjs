// Reads YAML files with node's YAML readers and prints them as JSON, for
// tests/test_yaml_readers.py. Usage: node read.mjs READER FILE...
// READER: yaml-1.2 (the `yaml` package, YAML 1.2 core schema), yaml-1.1 (the
// same package in YAML 1.1 mode) or js-yaml (its default schema, YAML 1.2).
import { readFileSync } from "node:fs";
import YAML from "yaml";
import jsyaml from "js-yaml";

const [reader, ...files] = process.argv.slice(2);
const out = files.map((file) => {
  const text = readFileSync(file, "utf8");
  if (reader === "js-yaml") return jsyaml.load(text);
  const version = reader === "yaml-1.1" ? "1.1" : "1.2";
  // uniqueKeys and strict: refuse what a lenient reader would guess at.
  return YAML.parse(text, { version, strict: true, uniqueKeys: true, prettyErrors: false });
});
process.stdout.write(JSON.stringify(out));
