// mittwald's official TypeScript client (@mittwald/api-client, from npm)
// against the bundled mittwald mock: the calls a frontend makes to show a
// server, create a project on it, wait for it, rename and delete it, each
// answered as the client expects. Run by tests/mittwald_client.rs:
//
//   node tests/peers/mittwald_client.mjs NODE_MODULES BASE_URL
//
// Prints one line per call; exits 1 with the reason on the first surprise.

import assert from "node:assert/strict";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const [modules, base] = process.argv.slice(2);
const entry = join(modules, "@mittwald/api-client/dist/esm/index.js");
const { MittwaldAPIV2Client } = await import(pathToFileURL(entry).href);

const SERVER = "8c6a0f5e-2b1d-4e3a-9f47-0d5c1b2a3e4f";

function client(token) {
  const made = token
    ? MittwaldAPIV2Client.newWithToken(token)
    : MittwaldAPIV2Client.newUnauthenticated();
  made.axios.defaults.baseURL = base;
  // The client hands every status back; the checks below decide.
  made.axios.defaults.validateStatus = () => true;
  return made;
}

function said(call, response) {
  console.log(`${call} -> ${response.status}`);
  return response;
}

const api = client("mock-token");

const servers = said("listServers", await api.project.listServers());
assert.equal(servers.status, 200);
assert.ok(Array.isArray(servers.data), "a list of servers");
assert.ok(servers.data.some((s) => s.id === SERVER), "the seeded server is listed");

// A page polls what it shows: the same request, the same answer.
let shown;
for (let i = 0; i < 3; i++) {
  const server = said("getServer", await api.project.getServer({ serverId: SERVER }));
  assert.equal(server.status, 200);
  assert.equal(server.data.id, SERVER);
  if (shown) assert.deepEqual(server.data, shown);
  shown = server.data;
}

const created = said(
  "createProject",
  await api.project.createProject({
    serverId: SERVER,
    data: { description: "made by the official client" },
  }),
);
assert.equal(created.status, 201);
const projectId = created.data.id;
assert.match(projectId, /^[0-9a-f-]{36}$/);

const fresh = said("getProject", await api.project.getProject({ projectId }));
assert.equal(fresh.status, 200);
assert.equal(fresh.data.description, "made by the official client");
assert.equal(fresh.data.serverId, SERVER);
// "A newly created project will not be available immediately."
assert.equal(fresh.data.isReady, false);

const listed = said("listProjects", await api.project.listProjects());
assert.equal(listed.status, 200);
assert.ok(listed.data.some((p) => p.id === projectId), "the new project is listed");

const renamed = said(
  "updateProject",
  await api.project.updateProject({
    projectId,
    data: { description: "renamed by the official client" },
  }),
);
assert.equal(renamed.status, 204);
const read = said("getProject", await api.project.getProject({ projectId }));
assert.equal(read.data.description, "renamed by the official client");

// Bad input gets mittwald's own validation error.
const invalid = said(
  "createProject (no description)",
  await api.project.createProject({ serverId: SERVER, data: {} }),
);
assert.equal(invalid.status, 400);
assert.equal(invalid.data.type, "ValidationError");

// No token: mittwald's documented 403.
const anonymous = said(
  "getServer (no token)",
  await client(null).project.getServer({ serverId: SERVER }),
);
assert.equal(anonymous.status, 403);

const deleted = said("deleteProject", await api.project.deleteProject({ projectId }));
assert.equal(deleted.status, 204);
const gone = said("getProject (deleted)", await api.project.getProject({ projectId }));
assert.equal(gone.status, 403);

console.log("ok");
