"""The shared language of vlpack: sample records, job config, grounding grammar, output contract.

This package sits at the bottom: it imports nothing from filters/, packer/, jobs/ or trainer_bridge/.
"""
