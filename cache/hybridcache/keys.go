package hybridcache

// DefaultChannel is the pub/sub channel of invalidation messages when
// Config.Channel is empty. Instances sharing an L2 namespace must share a
// channel; caches over different namespaces should use different channels,
// or they drop each other's keys for nothing.
const DefaultChannel = "fanin:cache:invalidate"
