// mqtt-packet ships no types for its constants module; the reader needs only these tables.
declare module 'mqtt-packet/constants.js' {
  const constants: {
    readonly propertiesCodes: Readonly<Record<number, string>>
    readonly propertiesTypes: Readonly<Record<string, string>>
  }
  export default constants
}
