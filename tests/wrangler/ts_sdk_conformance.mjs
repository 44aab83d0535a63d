// Conformance: the official TypeScript SDK (npm `cloudflare`, pinned in package-lock.json)
// against a served emulator. Run by tests/emulator/test_ts_sdk.py, which starts the emulator
// (with `store_create_array: accept`, the shape this SDK sends) and checks the steps printed
// on the last line: every step must run, none may be skipped.
//
// env: CF_BASE_URL, CF_TOKEN, CF_ACCOUNT (the emulator's base URL, token and account id).

import assert from "node:assert/strict";
import Cloudflare, { toFile } from "cloudflare";

const account_id = process.env.CF_ACCOUNT;
const client = new Cloudflare({
	apiToken: process.env.CF_TOKEN,
	baseURL: process.env.CF_BASE_URL,
	maxRetries: 0,
});
const steps = [];
const step = async (name, fn) => {
	try {
		await fn();
	} catch (err) {
		console.error(`step ${name} failed: ${err?.stack ?? err}`);
		process.exit(1);
	}
	steps.push(name);
};
const collect = async (page) => {
	const out = [];
	for await (const item of page) out.push(item);
	return out;
};
const rejects = async (promise, cls, code) => {
	try {
		await promise;
	} catch (err) {
		assert.ok(err instanceof cls, `expected ${cls.name}, got ${err?.constructor?.name}: ${err}`);
		if (code !== undefined) assert.equal(err.errors?.[0]?.code, code, String(err));
		return err;
	}
	assert.fail(`expected ${cls.name}`);
};

const ESM = 'export default { async fetch() { return new Response("hi"); } };\n';
const CLASSIC = "addEventListener('fetch', (e) => e.respondWith(new Response('hi')));\n";
const file = (name, text, type) => toFile(Buffer.from(text), name, { type });

let storeId;
let secretIds = [];

await step("accounts.list", async () => {
	const accounts = await collect(client.accounts.list({ per_page: 5 }));
	assert.ok(accounts.some((a) => a.id === account_id), "the account is listed");
	assert.ok(accounts.length > 5, "more than one page was read");
});

await step("stores.create", async () => {
	const created = await collect(
		client.secretsStore.stores.create({ account_id, body: [{ name: "ts-store" }] }),
	);
	assert.equal(created.length, 1);
	assert.match(created[0].id, /^[0-9a-f]{32}$/);
	storeId = created[0].id;
});

await step("stores.create second: 400 code 1003", async () => {
	await rejects(
		collect(client.secretsStore.stores.create({ account_id, body: [{ name: "other" }] })),
		Cloudflare.BadRequestError,
		1003,
	);
});

await step("stores.list", async () => {
	const stores = await collect(client.secretsStore.stores.list({ account_id }));
	assert.deepEqual(
		stores.map((s) => s.name),
		["ts-store"],
	);
});

await step("secrets.create", async () => {
	const body = Array.from({ length: 5 }, (_, i) => ({
		name: `KEY_${i}`,
		value: `value-${i}`,
		scopes: ["workers"],
		comment: `c${i}`,
	}));
	const created = await collect(
		client.secretsStore.stores.secrets.create(storeId, { account_id, body }),
	);
	assert.deepEqual(
		created.map((s) => s.name),
		body.map((s) => s.name),
	);
	for (const s of created) assert.ok(!("value" in s), "no value comes back");
	secretIds = created.map((s) => s.id);
});

await step("secrets.list with paging", async () => {
	const listed = await collect(
		client.secretsStore.stores.secrets.list(storeId, { account_id, per_page: 2 }),
	);
	assert.deepEqual(
		listed.map((s) => s.id),
		secretIds,
	);
});

await step("secrets.get", async () => {
	const got = await client.secretsStore.stores.secrets.get(storeId, secretIds[0], { account_id });
	assert.equal(got.name, "KEY_0");
	assert.deepEqual(got.scopes, ["workers"]);
	assert.ok(["active", "pending"].includes(got.status), got.status);
});

await step("secrets.edit", async () => {
	const edited = await client.secretsStore.stores.secrets.edit(storeId, secretIds[0], {
		account_id,
		comment: "edited",
		scopes: ["workers", "ai_gateway"],
	});
	assert.equal(edited.comment, "edited");
	assert.deepEqual(edited.scopes, ["ai_gateway", "workers"]);
});

await step("secrets.delete", async () => {
	await client.secretsStore.stores.secrets.delete(storeId, secretIds[0], { account_id });
	await rejects(
		client.secretsStore.stores.secrets.get(storeId, secretIds[0], { account_id }),
		Cloudflare.NotFoundError,
	);
});

await step("secrets.bulkDelete", async () => {
	// 5.x declares no body for bulk delete; the ids go through the SDK's own `body` option.
	await collect(
		client.secretsStore.stores.secrets.bulkDelete(
			storeId,
			{ account_id },
			{ body: { ids: secretIds.slice(1, 3) } },
		),
	);
	const left = await collect(client.secretsStore.stores.secrets.list(storeId, { account_id }));
	assert.deepEqual(
		left.map((s) => s.id),
		secretIds.slice(3),
	);
});

await step("quota.get", async () => {
	const quota = await client.secretsStore.quota.get({ account_id });
	assert.deepEqual(quota.secrets, { quota: 100, usage: 2 });
});

await step("scripts.update ES module", async () => {
	const res = await client.workers.scripts.update("ts-module", {
		account_id,
		metadata: {
			main_module: "index.js",
			compatibility_date: "2025-01-01",
			bindings: [{ type: "plain_text", name: "GREETING", text: "hi" }],
		},
		files: [
			await file("index.js", ESM, "application/javascript+module"),
			await file("util.js", "export const x = 1;\n", "application/javascript+module"),
		],
	});
	assert.equal(res.id, "ts-module");
	assert.match(res.etag, /^[0-9a-f]{64}$/);
	assert.equal(res.has_modules, true);
});

await step("scripts.update classic", async () => {
	const res = await client.workers.scripts.update("ts-classic", {
		account_id,
		metadata: { body_part: "worker.js", compatibility_date: "2025-01-01" },
		files: [await file("worker.js", CLASSIC, "application/javascript")],
	});
	assert.equal(res.id, "ts-classic");
	assert.equal(res.has_modules, false);
	const code = await client.workers.scripts.get("ts-classic", { account_id });
	assert.equal(code, CLASSIC);
});

await step("scripts.list", async () => {
	const scripts = await collect(client.workers.scripts.list({ account_id }));
	assert.deepEqual(scripts.map((s) => s.id).sort(), ["ts-classic", "ts-module"]);
});

await step("scriptAndVersionSettings", async () => {
	const edited = await client.workers.scripts.scriptAndVersionSettings.edit("ts-module", {
		account_id,
		settings: { compatibility_date: "2025-02-02", tags: ["team:ts"] },
	});
	assert.equal(edited.compatibility_date, "2025-02-02");
	const got = await client.workers.scripts.scriptAndVersionSettings.get("ts-module", {
		account_id,
	});
	assert.deepEqual(got.tags, ["team:ts"]);
	assert.deepEqual(
		got.bindings.map((b) => b.name),
		["GREETING"],
	);
});

await step("settings (script-settings)", async () => {
	const edited = await client.workers.scripts.settings.edit("ts-module", {
		account_id,
		logpush: true,
	});
	assert.equal(edited.logpush, true);
	const got = await client.workers.scripts.settings.get("ts-module", { account_id });
	assert.equal(got.logpush, true);
	assert.deepEqual(got.tags, ["team:ts"]);
});

await step("script secrets", async () => {
	const put = await client.workers.scripts.secrets.update("ts-module", {
		account_id,
		name: "TOKEN",
		text: "s3cr3t",
		type: "secret_text",
	});
	assert.deepEqual(put, { name: "TOKEN", type: "secret_text" });
	const listed = await collect(client.workers.scripts.secrets.list("ts-module", { account_id }));
	assert.deepEqual(listed, [{ name: "TOKEN", type: "secret_text" }]);
	const got = await client.workers.scripts.secrets.get("ts-module", "TOKEN", { account_id });
	assert.equal(got.name, "TOKEN");
	assert.ok(!JSON.stringify(got).includes("s3cr3t"), "the value never comes back");
	await client.workers.scripts.secrets.delete("ts-module", "TOKEN", { account_id });
	await rejects(
		client.workers.scripts.secrets.get("ts-module", "TOKEN", { account_id }),
		Cloudflare.NotFoundError,
		10056,
	);
});

await step("scripts.delete", async () => {
	await client.workers.scripts.delete("ts-classic", { account_id });
	const scripts = await collect(client.workers.scripts.list({ account_id }));
	assert.deepEqual(
		scripts.map((s) => s.id),
		["ts-module"],
	);
});

await step("404 is NotFoundError", async () => {
	await rejects(
		client.workers.scripts.get("ts-classic", { account_id }),
		Cloudflare.NotFoundError,
		10007,
	);
	await rejects(
		client.secretsStore.stores.secrets.get(storeId, "0".repeat(32), { account_id }),
		Cloudflare.NotFoundError,
		1001,
	);
});

await step("stores.delete", async () => {
	// Two secrets are left: the delete needs ?force=true (5.x has no parameter for it).
	await client.secretsStore.stores.delete(storeId, { account_id }, { query: { force: true } });
	const stores = await collect(client.secretsStore.stores.list({ account_id }));
	assert.deepEqual(stores, []);
});

console.log(JSON.stringify({ steps }));
