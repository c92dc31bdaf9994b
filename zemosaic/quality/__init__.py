"""Frame quality (placeholder init)"""
