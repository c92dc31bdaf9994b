"""Files in and out, one module per job.

``fits``     reading raw frames and products (int/float, BZERO/BSCALE, Bayer, colour cubes; the celestial WCS and
             the header facts), writing float32 images with their WCS and named extensions; specific errors
``debayer``  Malvar-He-Cutler (and bilinear) demosaicing of Bayer frames, pattern at numpy element [0, 0]
``atomic``   atomic file output: a file appears only once complete (every output goes through it)
"""
