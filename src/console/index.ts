export { createConsoleHandler } from "./handler.js";
export type { ConsoleHandler, ConsoleOptions } from "./handler.js";
