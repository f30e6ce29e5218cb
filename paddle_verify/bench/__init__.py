"""Benchmarks: agents in two places (agents, baremetal), the runs that compare them (cpu,
network, gpu), the network client (netclient), statistics (stats), the log and plots
(log, svgplot)."""
