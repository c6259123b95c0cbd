// Validates ECS documents (one JSON object per line, files given on the command line) against the
// published @elastic/ecs 9.4.0 flat field definitions: every key path is an ECS field or under the
// custom `imtriage.` namespace; values have the field's type; categorisation fields use the
// allowed values, and each event.type is one the event.category expects.
// Run by .ci/run after `npm ci` in this folder; exits 1 with a list of problems.
'use strict';
const fs = require('fs');
const { EcsFlat } = require('@elastic/ecs/build/commonjs/ecs_flat.js');
const pkg = require('@elastic/ecs/package.json');

if (pkg.version !== '9.4.0') {
  console.error(`expected @elastic/ecs 9.4.0, found ${pkg.version}`);
  process.exit(1);
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
const problems = [];

function typeOk(def, v) {
  const one = (x) => {
    switch (def.type) {
      case 'keyword': case 'constant_keyword': case 'wildcard': case 'text': case 'match_only_text':
        return typeof x === 'string';
      case 'date': return typeof x === 'string' && RFC3339.test(x);
      case 'long': case 'integer': case 'short': case 'byte': return Number.isInteger(x);
      case 'float': case 'scaled_float': case 'double': return typeof x === 'number';
      case 'boolean': return typeof x === 'boolean';
      default: return true;
    }
  };
  return Array.isArray(v) ? v.every(one) : one(v);
}

function walk(obj, prefix, where) {
  for (const [k, v] of Object.entries(obj)) {
    const path = prefix ? `${prefix}.${k}` : k;
    if (path === 'imtriage' || path.startsWith('imtriage.')) continue;
    const def = EcsFlat[path];
    if (def) {
      if (!typeOk(def, v)) problems.push(`${where}: ${path} is not of type ${def.type}: ${JSON.stringify(v)}`);
      if (Array.isArray(v) && !(def.normalize || []).includes('array') && def.type !== 'keyword')
        problems.push(`${where}: ${path} is an array`);
      if (def.allowed_values) {
        const names = def.allowed_values.map((a) => a.name);
        for (const x of [].concat(v)) if (!names.includes(x)) problems.push(`${where}: ${path} = ${x} is not allowed`);
      }
    } else if (v && typeof v === 'object' && !Array.isArray(v)) {
      walk(v, path, where);
    } else {
      problems.push(`${where}: ${path} is not an ECS 9.4.0 field`);
    }
  }
}

let docs = 0;
for (const file of process.argv.slice(2)) {
  const lines = fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.trim() !== '');
  lines.forEach((line, i) => {
    const where = `${file}:${i + 1}`;
    let doc;
    try { doc = JSON.parse(line); } catch (e) { problems.push(`${where}: not JSON: ${e.message}`); return; }
    docs++;
    walk(doc, '', where);
    for (const req of Object.keys(EcsFlat).filter((k) => EcsFlat[k].required))
      if (!(req in doc) && req.split('.').reduce((o, p) => (o || {})[p], doc) === undefined)
        problems.push(`${where}: required field ${req} is missing`);
    if ((doc.ecs || {}).version !== '9.4.0') problems.push(`${where}: ecs.version is not 9.4.0`);
    const ev = doc.event || {};
    if (ev.kind !== 'alert') problems.push(`${where}: event.kind is not alert`);
    const cats = EcsFlat['event.category'].allowed_values;
    for (const c of [].concat(ev.category || [])) {
      const spec = cats.find((a) => a.name === c);
      for (const t of [].concat(ev.type || []))
        if (spec && spec.expected_event_types && !spec.expected_event_types.includes(t))
          problems.push(`${where}: event.type ${t} is not expected for event.category ${c}`);
    }
  });
}
if (problems.length) {
  console.error(problems.join('\n'));
  process.exit(1);
}
console.log(`ecs-check: ${docs} documents valid against @elastic/ecs ${pkg.version}`);
