import { memoryStore } from "agent-incidents";
import { describeStoreConformance } from "agent-incidents/testing";

describeStoreConformance("memory", () => memoryStore());
