set terminal pngcairo size 800,520 enhanced font 'DejaVu Sans,10' noenhanced
set output "mig-vs-steps.png"
set title "mig vs steps (mean ± std over seeds)"
set xlabel "training.steps"
set ylabel "mig"
set grid
set key below
set offsets 0, graph 0.03, graph 0.05, 0
set yrange [0:*]
set xrange [0:*]
plot 'mig-vs-steps.0.dat' using 1:2:3 with yerrorlines lw 2 title "kind=ada-gvae batch_size=32 learning_rate=0.001", 'mig-vs-steps.1.dat' using 1:2:3 with yerrorlines lw 2 title "kind=ada-gvae batch_size=64 learning_rate=0.0005", 'mig-vs-steps.2.dat' using 1:2:3 with yerrorlines lw 2 title "kind=ada-gvae batch_size=64 learning_rate=0.001", 'mig-vs-steps.3.dat' using 1:2:3 with yerrorlines lw 2 title "kind=ada-ml-vae batch_size=64 learning_rate=0.001", 'mig-vs-steps.4.dat' using 1:2:3 with yerrorlines lw 2 title "kind=annealed-vae batch_size=64 learning_rate=0.001", 'mig-vs-steps.5.dat' using 1:2:3 with yerrorlines lw 2 title "kind=beta-tcvae batch_size=64 learning_rate=0.0005", 'mig-vs-steps.6.dat' using 1:2:3 with yerrorlines lw 2 title "kind=beta-tcvae batch_size=64 learning_rate=0.001", 'mig-vs-steps.7.dat' using 1:2:3 with yerrorlines lw 2 title "kind=beta-vae batch_size=64 learning_rate=0.001", 'mig-vs-steps.8.dat' using 1:2:3 with yerrorlines lw 2 title "kind=dip-vae-1 batch_size=64 learning_rate=0.001", 'mig-vs-steps.9.dat' using 1:2:3 with yerrorlines lw 2 title "kind=dip-vae-2 batch_size=64 learning_rate=0.001", 'mig-vs-steps.10.dat' using 1:2:3 with yerrorlines lw 2 title "kind=factor-vae batch_size=64 learning_rate=0.001"
