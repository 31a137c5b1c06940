"""`inspection-viewer bench media`: the photo grid over S3 at a set RTT and bandwidth."""

from viewer.bench.media.options import add_media_command

__all__ = ["add_media_command"]
