export { createConsoleHandler } from "./handler.js";
export type { ConsoleOptions } from "./handler.js";
