export * from './callback-message';
export * from './control-command';
export * from './endpoint-event';
export * from './envelope';
export * from './issues';
export * from './model-package-event';
export * from './parse';
export * from './schedule-event';
