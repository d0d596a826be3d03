"""Tools: spans (checker / stats), cpusampler (/proc CPU time)."""
