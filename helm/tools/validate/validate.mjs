// validate.mjs: checks every object of a rendered chart (multi-document YAML
// on stdin or in the files named) against the Kubernetes schemas of the
// npm package kubernetes-models, and looks for fields Kubernetes does not
// know (a misspelt "livenesProbe" is valid JSON schema but silently
// ignored by the API server): the object goes through @kubernetes/client-node's
// typed models and back, and every field lost on the way is reported.
// Prints one line per object; exits 1 if any object is invalid, has an
// unknown field, or is of an unknown kind.
import { readFileSync } from "node:fs";
import k8s from "@kubernetes/client-node";
import { parseAllDocuments } from "yaml";

// Paths of the fields of `orig` that are missing from `kept`.
function lost(orig, kept, path, out) {
  if (Array.isArray(orig)) {
    orig.forEach((v, i) => lost(v, Array.isArray(kept) ? kept[i] : undefined, `${path}[${i}]`, out));
  } else if (orig && typeof orig === "object") {
    for (const [k, v] of Object.entries(orig)) {
      if (!kept || typeof kept !== "object" || !(k in kept)) out.push(`${path}.${k}`);
      else lost(v, kept[k], `${path}.${k}`, out);
    }
  }
  return out;
}

// Fields of obj that the typed model of its kind does not have.
function unknownFields(obj) {
  const version = obj.apiVersion.split("/").pop();
  const type = version.charAt(0).toUpperCase() + version.slice(1) + obj.kind;
  const back = k8s.ObjectSerializer.serialize(k8s.ObjectSerializer.deserialize(obj, type), type);
  // free-form maps (labels, annotations, ConfigMap and Secret data) pass through as they are
  return lost(obj, back, "", []);
}

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
      const extra = unknownFields(obj);
      if (extra.length) {
        console.log(`${what}: unknown fields ${extra.join(", ")}`);
        bad++;
        continue;
      }
      console.log(`ok ${what}`);
    } catch (e) {
      console.log(`${what}: ${e.message}`);
      bad++;
    }
  }
}
console.log(`validate: ${n - bad} valid, ${bad} invalid`);
process.exit(bad ? 1 : 0);
