// Loaded with NODE_OPTIONS=--import=<this file> before js-ipfs (npm ipfs@0.66.1).
// Some of js-ipfs' dependencies call Promise.withResolvers (ES2024), which Node 20 lacks.
if (typeof Promise.withResolvers !== 'function') {
  Object.defineProperty(Promise, 'withResolvers', {
    configurable: true,
    writable: true,
    value: function withResolvers () {
      let resolve
      let reject
      const promise = new this((res, rej) => { resolve = res; reject = rej })
      return { promise, resolve, reject }
    }
  })
}
