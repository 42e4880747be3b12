// tests/k8s/validate.js - every document of a Kubernetes manifest against
// the Kubernetes API's own schema, with no cluster.
//
// usage: node validate.js MANIFEST   (from a folder where 'npm ci' of
// tests/k8s/package.json was run; tests/integration/test_k8s.sh does it)
//
// Two checks per document, each problem printed as MANIFEST:LINE: reason:
//  - kubernetes-models' validators, compiled with ajv from the OpenAPI
//    definitions of the Kubernetes API (types, enums, required fields,
//    formats); they let unknown fields through, as the OpenAPI schema does;
//  - unknown fields, as 'kubectl apply --validate=strict' refuses them:
//    the document as a TypeScript object literal of kubernetes-models'
//    interface for its kind, where tsc refuses a property the type lacks.
// The YAML is read as YAML 1.1, as the API server's reader does (0400 is
// octal, 256).  Exit status 0: no problem; 1: problems; 2: usage.
"use strict";

const fs = require("fs");
const path = require("path");
const YAML = require("yaml");
const ts = require("typescript");

const KINDS = {
	"v1/ConfigMap": ["kubernetes-models/v1", "ConfigMap"],
	"v1/Secret": ["kubernetes-models/v1", "Secret"],
	"v1/PersistentVolumeClaim": ["kubernetes-models/v1", "PersistentVolumeClaim"],
	"batch/v1/Job": ["kubernetes-models/batch/v1", "Job"],
};

let problems = 0;

function report(file, line, msg) {
	console.log(`${file}:${line}: ${msg}`);
	problems++;
}

// the manifest line of the node at PATH of DOC (or of its nearest parent)
function lineOf(doc, lines, keys) {
	for (let n = keys.length; n >= 0; n--) {
		const node = doc.getIn(keys.slice(0, n), true);
		if (node && node.range)
			return lines.linePos(node.range[0]).line;
	}
	return 1;
}

// ajv's "/spec/template/spec/containers/0/name" as keys
function pointerKeys(p) {
	return p.split("/").slice(1).map((k) => (/^\d+$/.test(k) ? Number(k) : k.replace(/~1/g, "/").replace(/~0/g, "~")));
}

function validateSchema(file, doc, lines, obj) {
	const key = `${obj.apiVersion}/${obj.kind}`;
	if (!KINDS[key]) {
		report(file, lineOf(doc, lines, ["kind"]), `no schema for apiVersion ${obj.apiVersion} kind ${obj.kind}`);
		return false;
	}
	const Model = require(KINDS[key][0])[KINDS[key][1]];
	try {
		new Model(obj).validate();
	} catch (e) {
		for (const err of e.errors || [{ instancePath: "", message: e.message }])
			report(file, lineOf(doc, lines, pointerKeys(err.instancePath)),
				`${obj.kind} ${obj.metadata && obj.metadata.name}: ${err.instancePath || "/"} ${err.message}`);
	}
	return true;
}

// VALUE as a TypeScript literal, one property or item a line; the keys
// of each line go to PATHS (written by hand: JSON.stringify keeps no
// record of where each key went)
function literal(value, keys, out, paths, indent) {
	const pad = "  ".repeat(indent + 1);
	if (Array.isArray(value)) {
		out.push("[");
		value.forEach((v, i) => {
			paths.push(keys.concat(i));
			out.push(`\n${pad}`);
			literal(v, keys.concat(i), out, paths, indent + 1);
			out.push(",");
		});
		out.push("]");
	} else if (value && typeof value === "object") {
		out.push("{");
		for (const k of Object.keys(value)) {
			paths.push(keys.concat(k));
			out.push(`\n${pad}${JSON.stringify(k)}: `);
			literal(value[k], keys.concat(k), out, paths, indent + 1);
			out.push(",");
		}
		out.push("}");
	} else {
		out.push(JSON.stringify(value));
	}
}

// unknown fields: tsc's excess property check on each document's literal
function validateFields(file, docs) {
	const src = [], where = [];
	const imports = new Set();
	docs.forEach(({ obj }, i) => {
		const [mod, kind] = KINDS[`${obj.apiVersion}/${obj.kind}`];
		imports.add(`import type { I${kind} } from "${mod}/${kind}";`);
		const out = [], paths = [];
		literal(obj, [], out, paths, 0);
		const text = `export const doc${i}: I${kind} = ${out.join("")};`;
		// line l of TEXT shows the key paths[l - 1] (line 0: the opening)
		text.split("\n").forEach((_, l) => where.push({ doc: i, keys: l ? paths[l - 1] : [] }));
		src.push(text);
	});
	const head = [...imports];
	head.forEach(() => where.unshift(null));
	const tsFile = path.resolve("manifest-check.ts");
	fs.writeFileSync(tsFile, head.concat(src).join("\n") + "\n");
	const program = ts.createProgram([tsFile], {
		noEmit: true, strict: true, skipLibCheck: true, types: [],
		module: ts.ModuleKind.CommonJS, moduleResolution: ts.ModuleResolutionKind.Node10,
	});
	for (const d of ts.getPreEmitDiagnostics(program)) {
		const msg = ts.flattenDiagnosticMessageText(d.messageText, " ");
		if (!d.file || d.start === undefined) {
			report(file, 1, `tsc: ${msg}`);
			continue;
		}
		const w = where[d.file.getLineAndCharacterOfPosition(d.start).line];
		if (!w) {
			report(file, 1, `tsc: ${msg}`);
			continue;
		}
		const { doc, lines } = docs[w.doc];
		report(file, lineOf(doc, lines, w.keys), `${docs[w.doc].obj.kind} ${docs[w.doc].obj.metadata.name}: ${msg}`);
	}
}

function main() {
	const file = process.argv[2];
	if (!file || process.argv.length !== 3) {
		console.error("usage: node validate.js MANIFEST");
		return 2;
	}
	const lines = new YAML.LineCounter();
	const all = YAML.parseAllDocuments(fs.readFileSync(file, "utf8"), { version: "1.1", lineCounter: lines });
	const docs = [];
	for (const doc of all) {
		for (const e of doc.errors)
			report(file, lines.linePos(e.pos[0]).line, `not YAML: ${e.message.split("\n")[0]}`);
		const obj = doc.toJS();
		if (!obj || typeof obj !== "object") {
			report(file, 1, "a document that is not a mapping");
			continue;
		}
		if (validateSchema(file, doc, lines, obj))
			docs.push({ doc, lines, obj });
	}
	if (docs.length)
		validateFields(file, docs);
	if (!problems)
		console.log(`${file}: ${docs.length} documents valid against the Kubernetes schema (kubernetes-models ${require("kubernetes-models/package.json").version}), no unknown field`);
	return problems ? 1 : 0;
}

process.exitCode = main();
