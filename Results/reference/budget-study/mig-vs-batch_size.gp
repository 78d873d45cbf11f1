set terminal pngcairo size 800,520 enhanced font 'DejaVu Sans,10' noenhanced
set output "mig-vs-batch_size.png"
set linetype 1 lc rgb '#1f77b4' dt 1
set linetype 2 lc rgb '#ff7f0e' dt 1
set linetype 3 lc rgb '#2ca02c' dt 1
set linetype 4 lc rgb '#d62728' dt 1
set linetype 5 lc rgb '#9467bd' dt 1
set linetype 6 lc rgb '#8c564b' dt 1
set linetype 7 lc rgb '#e377c2' dt 1
set linetype 8 lc rgb '#7f7f7f' dt 1
set linetype 9 lc rgb '#bcbd22' dt 1
set linetype 10 lc rgb '#17becf' dt 1
set linetype 11 lc rgb '#1f77b4' dt 2
set linetype 12 lc rgb '#ff7f0e' dt 2
set linetype 13 lc rgb '#2ca02c' dt 2
set linetype 14 lc rgb '#d62728' dt 2
set linetype 15 lc rgb '#9467bd' dt 2
set linetype 16 lc rgb '#8c564b' dt 2
set linetype 17 lc rgb '#e377c2' dt 2
set linetype 18 lc rgb '#7f7f7f' dt 2
set linetype 19 lc rgb '#bcbd22' dt 2
set linetype 20 lc rgb '#17becf' dt 2
set linetype 21 lc rgb '#1f77b4' dt 3
set linetype 22 lc rgb '#ff7f0e' dt 3
set linetype 23 lc rgb '#2ca02c' dt 3
set linetype 24 lc rgb '#d62728' dt 3
set linetype 25 lc rgb '#9467bd' dt 3
set linetype 26 lc rgb '#8c564b' dt 3
set linetype 27 lc rgb '#e377c2' dt 3
set linetype 28 lc rgb '#7f7f7f' dt 3
set linetype 29 lc rgb '#bcbd22' dt 3
set linetype 30 lc rgb '#17becf' dt 3
set linetype cycle 30
set title "mig vs batch_size (mean ± std over seeds)"
set xlabel "training.batch_size"
set ylabel "mig"
set grid
set key below
set offsets 0, graph 0.03, graph 0.05, graph 0.05
set xrange [0:*]
plot 'mig-vs-batch_size.0.dat' using 1:2:3 with yerrorlines lw 2 title "kind=ada-gvae learning_rate=0.001", 'mig-vs-batch_size.1.dat' using 1:2:3 with yerrorlines lw 2 title "kind=ada-gvae learning_rate=0.0005", 'mig-vs-batch_size.2.dat' using 1:2:3 with yerrorlines lw 2 title "kind=ada-ml-vae learning_rate=0.001", 'mig-vs-batch_size.3.dat' using 1:2:3 with yerrorlines lw 2 title "kind=annealed-vae learning_rate=0.001", 'mig-vs-batch_size.4.dat' using 1:2:3 with yerrorlines lw 2 title "kind=beta-tcvae learning_rate=0.0005", 'mig-vs-batch_size.5.dat' using 1:2:3 with yerrorlines lw 2 title "kind=beta-tcvae learning_rate=0.001", 'mig-vs-batch_size.6.dat' using 1:2:3 with yerrorlines lw 2 title "kind=beta-vae learning_rate=0.001", 'mig-vs-batch_size.7.dat' using 1:2:3 with yerrorlines lw 2 title "kind=dip-vae-1 learning_rate=0.001", 'mig-vs-batch_size.8.dat' using 1:2:3 with yerrorlines lw 2 title "kind=dip-vae-2 learning_rate=0.001", 'mig-vs-batch_size.9.dat' using 1:2:3 with yerrorlines lw 2 title "kind=factor-vae learning_rate=0.001"
