"""Training the lesson's network: MNIST, augmentation, the training run, evaluation.

Never imported by the server (app.py, server/, model/); not copied into the image.
"""
