"""Phase 4 tests: prudential, negative-list, policy and subsidy rules, indicators, grades."""
