import { memoryStore } from "agent-incidents";
import { describeStoreConformance } from "agent-incidents/testing";

describeStoreConformance("memory", () => memoryStore());

// a store without timers or silences of its own: the suite skips their groups, and says so
describeStoreConformance("memory, without timers or silences", () => {
  const { timers: _timers, silences: _silences, ...store } = memoryStore();
  return store;
});
