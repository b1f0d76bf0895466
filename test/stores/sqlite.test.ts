import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sqliteStore } from "agent-incidents/sqlite";
import { describeStoreConformance } from "agent-incidents/testing";

const dir = mkdtempSync(join(tmpdir(), "agent-incidents-sqlite-"));
let n = 0;

describeStoreConformance("sqlite", () => sqliteStore({ filename: join(dir, `conformance-${++n}.db`) }));
