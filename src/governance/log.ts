/** The slice of a pino/Fastify logger the governance stores use (tests pass pino({level: 'silent'})). */
export interface GovernanceLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export const silentLog: GovernanceLog = { info() {}, warn() {}, error() {} };
