set terminal pngcairo size 800,520 enhanced font 'DejaVu Sans,10' noenhanced
set output "curve-named_factors-vs-images.png"
set title "named_factors during training (mean ± std over seeds)"
set xlabel "images seen"
set ylabel "named_factors"
set grid
set key below
set offsets 0, graph 0.03, graph 0.05, graph 0.05
set xrange [0:*]
plot 'curve-named_factors-vs-images.0.dat' using 1:2:3 with yerrorlines lw 2 title "kind=ada-gvae batch_size=32 learning_rate=0.001", 'curve-named_factors-vs-images.1.dat' using 1:2:3 with yerrorlines lw 2 title "kind=ada-gvae batch_size=64 learning_rate=0.0005", 'curve-named_factors-vs-images.2.dat' using 1:2:3 with yerrorlines lw 2 title "kind=ada-gvae batch_size=64 learning_rate=0.001", 'curve-named_factors-vs-images.3.dat' using 1:2:3 with yerrorlines lw 2 title "kind=ada-ml-vae batch_size=64 learning_rate=0.001", 'curve-named_factors-vs-images.4.dat' using 1:2:3 with yerrorlines lw 2 title "kind=annealed-vae batch_size=64 learning_rate=0.001", 'curve-named_factors-vs-images.5.dat' using 1:2:3 with yerrorlines lw 2 title "kind=beta-tcvae batch_size=64 learning_rate=0.0005", 'curve-named_factors-vs-images.6.dat' using 1:2:3 with yerrorlines lw 2 title "kind=beta-tcvae batch_size=64 learning_rate=0.001", 'curve-named_factors-vs-images.7.dat' using 1:2:3 with yerrorlines lw 2 title "kind=beta-vae batch_size=64 learning_rate=0.001", 'curve-named_factors-vs-images.8.dat' using 1:2:3 with yerrorlines lw 2 title "kind=dip-vae-1 batch_size=64 learning_rate=0.001", 'curve-named_factors-vs-images.9.dat' using 1:2:3 with yerrorlines lw 2 title "kind=dip-vae-2 batch_size=64 learning_rate=0.001", 'curve-named_factors-vs-images.10.dat' using 1:2:3 with yerrorlines lw 2 title "kind=factor-vae batch_size=64 learning_rate=0.001"
