"""The domain core: finding, merging and writing customers, with no GraphQL in it."""
