"""Custom components the manifest cannot express: Zoho OAuth, ticket field lists, range-aware paging, credits."""
