"""Training-time utilities: synthetic degradations that turn clean photos into (degraded, clean) pairs.

Nothing here is imported by the app at run time; `engine.training.degradations` needs only numpy and cv2.
"""
