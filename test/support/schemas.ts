/** Seed 003's UserActivity (namespace com.monitoring.streaming), as the registry, Avro and contracts tests use it. */
export const USER_ACTIVITY = {
  type: 'record',
  name: 'UserActivity',
  namespace: 'com.monitoring.streaming',
  fields: [
    { name: 'event_id', type: 'string' },
    { name: 'user_id', type: 'string' },
    { name: 'event_type', type: { type: 'enum', name: 'EventType', symbols: ['CLICK', 'VIEW', 'PURCHASE', 'LOGIN', 'LOGOUT'] } },
    { name: 'timestamp', type: { type: 'long', logicalType: 'timestamp-millis' } },
    { name: 'page_id', type: ['null', 'string'], default: null },
    { name: 'metadata', type: { type: 'map', values: 'string' } },
  ],
};
