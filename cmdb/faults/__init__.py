"""Fault records (故障处理工作单): reported, dispatched, on site, resolved, observed, signed off."""
