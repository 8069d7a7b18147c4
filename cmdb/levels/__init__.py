"""Service levels: what the contract promises (response, arrival and resolution targets in
service hours) and which level applies to a CI."""
