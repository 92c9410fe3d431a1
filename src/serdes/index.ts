import { avroFormat } from './avro.js';
import { jsonFormat } from './json.js';
import { registerBuiltInSerde } from './serde.js';

export {
  createSerde,
  registerSerde,
  serdeKinds,
  unregisterSerde,
  type Serde,
  type SerdeContext,
  type SerdeFactory,
  type SerdeSpec,
} from './serde.js';

// The built-in formats. A new format is a file (or folder) under serdes/ and one line here.
registerBuiltInSerde(jsonFormat);
registerBuiltInSerde(avroFormat);
