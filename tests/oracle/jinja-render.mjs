// Renders chat templates with @huggingface/jinja (what transformers.js uses), as the oracle for Capa.Templates.
// Usage: node jinja-render.mjs INPUT.json OUTPUT.json
// INPUT:  { "now": "2026-01-02T03:04:05Z"?, "cases": [ { "id": "...", "template": "...", "variables": { ... } } ] }
// OUTPUT: { "results": [ { "id": "...", "output": "..." } | { "id": "...", "error": "..." } ] }
// "now" fixes the clock that strftime_now reads (local time; run with TZ=UTC for a fixed zone).
import { readFileSync, writeFileSync } from "node:fs";
import { Template } from "@huggingface/jinja";

const [inputPath, outputPath] = process.argv.slice(2);
if (!inputPath || !outputPath) {
	console.error("usage: node jinja-render.mjs INPUT.json OUTPUT.json");
	process.exit(2);
}

const input = JSON.parse(readFileSync(inputPath, "utf8"));
if (input.now) {
	const fixed = new Date(input.now).getTime();
	const RealDate = Date;
	globalThis.Date = class extends RealDate {
		constructor(...args) {
			super(...(args.length === 0 ? [fixed] : args));
		}
		static now() {
			return fixed;
		}
	};
}

const compiled = new Map();
const results = [];
for (const testCase of input.cases) {
	try {
		let template = compiled.get(testCase.template);
		if (!template) {
			template = new Template(testCase.template);
			compiled.set(testCase.template, template);
		}
		results.push({ id: testCase.id, output: template.render(testCase.variables ?? {}) });
	} catch (error) {
		results.push({ id: testCase.id, error: String(error?.message ?? error) });
	}
}

writeFileSync(outputPath, JSON.stringify({ results }), "utf8");
