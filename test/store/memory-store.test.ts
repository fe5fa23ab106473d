import { MemoryStore } from '../../persistence/memory-store.js'
import { storeContract } from './store-contract.js'

storeContract('memory', { create: async () => new MemoryStore() })
