"""The emulator's Cloud Infinite: MediaInfo jobs from ffprobe, the job API and the callbacks.

May import ``emulator`` root modules (wire, xmlreply, faults) and ``shared`` parsers; must not
import ``emulator.cos`` internals beyond the object store it is handed, or the handlers.
"""
