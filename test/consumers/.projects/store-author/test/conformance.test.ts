import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { memoryStore } from "agent-incidents";
import { sqliteStore } from "agent-incidents/sqlite";
import { describeStoreConformance } from "agent-incidents/testing";
import { countingStore } from "../src/counting-store.js";

const dir = mkdtempSync(join(tmpdir(), "store-author-"));
let n = 0;

describeStoreConformance("memoryStore", () => memoryStore());
describeStoreConformance("sqliteStore", () => sqliteStore({ filename: join(dir, `conformance-${++n}.db`) }));
describeStoreConformance("countingStore", () => countingStore());
