// validate.mjs: checks every object of a rendered chart (multi-document YAML
// on stdin or in the files named) against the Kubernetes schemas of the
// npm package kubernetes-models; prints one line per object and exits 1 if
// any object is invalid or of an unknown kind.
import { readFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";

const sources = process.argv.length > 2 ? process.argv.slice(2) : ["/dev/stdin"];
let bad = 0;
let n = 0;
for (const src of sources) {
  for (const doc of parseAllDocuments(readFileSync(src, "utf8"))) {
    if (doc.errors.length) {
      console.log(`${src}: YAML error: ${doc.errors[0].message}`);
      bad++;
      continue;
    }
    const obj = doc.toJS();
    if (!obj) continue;
    n++;
    const what = `${obj.kind} ${obj.metadata?.name}`;
    const group = obj.apiVersion.includes("/") ? obj.apiVersion : `v1`;
    let Model;
    try {
      Model = (await import(`kubernetes-models/${group}/${obj.kind}`))[obj.kind];
    } catch (e) {
      console.log(`${what}: unknown kind ${obj.apiVersion}/${obj.kind}`);
      bad++;
      continue;
    }
    try {
      new Model(obj).validate();
      console.log(`ok ${what}`);
    } catch (e) {
      console.log(`${what}: ${e.message}`);
      bad++;
    }
  }
}
console.log(`validate: ${n - bad} valid, ${bad} invalid`);
process.exit(bad ? 1 : 0);
